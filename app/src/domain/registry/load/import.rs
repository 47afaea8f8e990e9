//! The checks of a module's `[modules.<m>.import]` table: `to` is a
//! resource address inside the module, `id` a template that reads only
//! the module's own, non-sensitive inputs and renders for a sample config.

use super::Errors;
use crate::domain::adopt;
use crate::domain::registry::{Import, Module};
use crate::domain::render::sample_config;
use serde::Deserialize;
use toml::Spanned;

/// The table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImport {
    to: Option<Spanned<String>>,
    id: Option<Spanned<String>>,
}

/// The checked table, or `None` with every problem pushed onto `errors`.
pub(super) fn check(
    module: &Module,
    raw: Spanned<RawImport>,
    errors: &mut Errors,
) -> Option<Import> {
    let before = errors.list.len();
    let m = module.module_type.as_str();
    let at = raw.span().start;
    let raw = raw.into_inner();
    let to = match raw.to {
        None => {
            errors.push(
                at,
                m,
                Some("import.to".into()),
                "missing: the address of the adopted resource inside the module (`terraform_data.this`)".into(),
            );
            String::new()
        }
        Some(to) => {
            if let Err(rule) = address_rule(to.get_ref()) {
                errors.push(to.span().start, m, Some("import.to".into()), rule);
            }
            to.into_inner()
        }
    };
    let Some(id) = raw.id else {
        errors.push(
            at,
            m,
            Some("import.id".into()),
            "missing: a template of the id the resource is imported by (`{{ config.name }}`)"
                .into(),
        );
        return None;
    };
    let id_at = id.span().start;
    let mut field_error = |rule: String| {
        errors.push(id_at, m, Some("import.id".into()), rule);
    };
    match adopt::id_inputs(id.get_ref()) {
        Err(e) => field_error(format!("the template does not compile: {e}")),
        Ok((inputs, others)) => {
            if !others.is_empty() {
                field_error(format!(
                    "the id may read only `config.<input>`, not `{}`",
                    others.join("`, `")
                ));
            }
            if inputs.is_empty() && others.is_empty() {
                field_error(
                    "the id must read at least one input (`{{ config.name }}`): \
                     each request adopts its own resource"
                        .into(),
                );
            }
            for name in &inputs {
                match module.input(name) {
                    None => field_error(format!("`config.{name}` is not an input of the module")),
                    Some(i) if i.sensitive => field_error(format!(
                        "input `{name}` is sensitive; an import id is shown to approvers"
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    let import = Import {
        to,
        id: id.into_inner(),
    };
    // It must render; an id that comes out empty for the samples is fine
    // (an optional input only adopters give): filing refuses that (422).
    if errors.list.len() == before
        && let Err(adopt::AdoptError::Template(e)) =
            adopt::import_id(&import, &sample_config(module))
    {
        errors.push(
            id_at,
            m,
            Some("import.id".into()),
            format!("the id does not render for the inputs' examples: {e}"),
        );
    }
    (errors.list.len() == before).then_some(import)
}

/// Why `to` is not a resource address inside a module, if it is not:
/// `[module.<name>.]…<type>.<name>`, a managed resource without index.
fn address_rule(to: &str) -> Result<(), String> {
    let parts: Vec<&str> = to.split('.').collect();
    let ident = |s: &str, dash: bool| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || (dash && c == '-'))
    };
    let well_formed = parts.len() >= 2
        && parts.len().is_multiple_of(2)
        && parts
            .chunks(2)
            .rev()
            .skip(1)
            .all(|pair| pair[0] == "module" && ident(pair[1], true))
        && {
            let (ty, name) = (parts[parts.len() - 2], parts[parts.len() - 1]);
            ident(ty, false)
                && ty.chars().all(|c| !c.is_ascii_uppercase())
                && !matches!(ty, "module" | "data" | "resource")
                && ident(name, true)
        };
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "`{to}` is not a resource address inside the module: use `<type>.<name>` \
             (`terraform_data.this`), optionally after `module.<name>.`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::address_rule;

    #[test]
    fn resource_addresses() {
        for ok in [
            "terraform_data.this",
            "aws_s3_bucket.this",
            "module.inner.aws_sqs_queue.main-queue",
        ] {
            assert!(address_rule(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "this",
            "terraform_data",
            "terraform_data.this[0]",
            "data.aws_s3_bucket.this",
            "module.x.this",
            "Terraform_data.this",
            "terraform_data.this\nid",
            "terraform_data.th is",
        ] {
            assert!(address_rule(bad).is_err(), "{bad:?}");
        }
    }
}
