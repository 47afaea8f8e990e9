//! The strict TOML loader. Every error names the file, the line, the module
//! and the field, and all errors are reported at once.

use super::{AttributePath, Input, InputType, Module, Pattern, Registry, Risk};
use crate::domain::{config, ids::ModuleType, render};
use serde::Deserialize;
use std::{collections::BTreeMap, fmt};
use toml::Spanned;

/// One problem in a registry file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    /// The file as the caller named it.
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// The module concerned, when known.
    pub module: Option<String>,
    /// The field concerned (`inputs.name.pattern`), when known.
    pub field: Option<String>,
    /// What is wrong, and what would be right.
    pub message: String,
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(m) = &self.module {
            write!(f, "module `{m}`: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for RegistryError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    modules: BTreeMap<Spanned<String>, Spanned<RawModule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModule {
    title: Spanned<String>,
    #[serde(default)]
    description: String,
    category: Spanned<String>,
    file: Spanned<String>,
    source: Spanned<String>,
    template: Spanned<String>,
    keywords: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    inputs: Vec<Spanned<RawInput>>,
    import: Option<Spanned<import::RawImport>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    name: Spanned<String>,
    #[serde(rename = "type")]
    ty: Spanned<String>,
    #[serde(default)]
    description: String,
    question: Option<String>,
    #[serde(default)]
    required: bool,
    default: Option<Spanned<serde_json::Value>>,
    example: Option<Spanned<serde_json::Value>>,
    pattern: Option<Spanned<String>>,
    min: Option<Spanned<f64>>,
    max: Option<Spanned<f64>>,
    integer: Option<Spanned<bool>>,
    values: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    immutable: bool,
    #[serde(default)]
    sensitive: bool,
    risk: Option<Spanned<String>>,
    explain: Option<Spanned<String>>,
    explain_off: Option<Spanned<String>>,
    attribute: Option<Spanned<String>>,
}

/// Collects errors with positions resolved against the source text.
struct Errors<'a> {
    file: &'a str,
    text: &'a str,
    list: Vec<RegistryError>,
}

impl Errors<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn push(&mut self, offset: usize, module: &str, field: Option<String>, message: String) {
        self.push_line(
            self.line_of(offset),
            Some(module.to_owned()),
            field,
            message,
        );
    }

    fn push_line(
        &mut self,
        line: usize,
        module: Option<String>,
        field: Option<String>,
        message: String,
    ) {
        self.list.push(RegistryError {
            file: self.file.to_owned(),
            line,
            module,
            field,
            message,
        });
    }

    /// The module whose table header last precedes `line` (for parse errors).
    fn module_at(&self, line: usize) -> Option<String> {
        self.text
            .lines()
            .take(line)
            .filter_map(|l| {
                let l = l.trim().trim_start_matches('[').trim_start_matches('[');
                let rest = l.strip_prefix("modules.")?;
                let end = rest.find(['.', ']'])?;
                Some(rest[..end].trim_matches('"').to_owned())
            })
            .last()
    }
}

impl Registry {
    /// Parses and fully checks a registry. `file` is only used in messages.
    pub fn from_toml(file: &str, text: &str) -> Result<Registry, Vec<RegistryError>> {
        let mut errors = Errors {
            file,
            text,
            list: Vec::new(),
        };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map_or(1, |s| errors.line_of(s.start));
                let message = e.message().trim().to_owned();
                let field = message
                    .strip_prefix("unknown field `")
                    .and_then(|r| r.split('`').next())
                    .map(str::to_owned);
                let module = errors.module_at(line);
                errors.push_line(line, module, field, message);
                return Err(errors.list);
            }
        };
        let mut modules = BTreeMap::new();
        for (key, raw_module) in raw.modules {
            let name = key.get_ref().clone();
            let module_type = match ModuleType::parse(&name) {
                Ok(t) => t,
                Err(e) => {
                    errors.push(key.span().start, &name, None, e.to_string());
                    continue;
                }
            };
            if let Some(module) =
                check_module(module_type.clone(), raw_module.into_inner(), &mut errors)
            {
                modules.insert(module_type, module);
            }
        }
        if modules.is_empty() && errors.list.is_empty() {
            errors.push_line(
                1,
                None,
                Some("modules".into()),
                "the registry defines no module".into(),
            );
        }
        if errors.list.is_empty() {
            Ok(Registry { modules })
        } else {
            Err(errors.list)
        }
    }
}

fn check_module(module_type: ModuleType, raw: RawModule, errors: &mut Errors) -> Option<Module> {
    let before = errors.list.len();
    let name = module_type.to_string();
    let m = name.as_str();
    let non_empty = |v: &Spanned<String>, field: &str, errors: &mut Errors| {
        if v.get_ref().trim().is_empty() {
            errors.push(
                v.span().start,
                m,
                Some(field.into()),
                "must not be empty".into(),
            );
        }
    };
    non_empty(&raw.title, "title", errors);
    non_empty(&raw.category, "category", errors);
    let keywords = raw.keywords.as_ref().map_or_else(Vec::new, |k| {
        let bad = k.get_ref().iter().find(|w| !valid_keyword(w));
        if let Some(w) = bad {
            errors.push(
                k.span().start,
                m,
                Some("keywords".into()),
                format!("keyword `{w}` must be 1-40 lowercase letters, digits, `-` or spaces"),
            );
        }
        k.get_ref().clone()
    });
    non_empty(&raw.source, "source", errors);
    let file = raw.file.get_ref();
    let file_ok = file
        .strip_prefix("tfpilot.")
        .and_then(|f| f.strip_suffix(".tf"))
        .is_some_and(|mid| {
            !mid.is_empty()
                && mid
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        });
    if !file_ok {
        errors.push(
            raw.file.span().start,
            m,
            Some("file".into()),
            format!(
                "`{file}` must look like `tfpilot.<name>.tf` (lowercase letters, digits, dashes)"
            ),
        );
    }

    let mut inputs = Vec::new();
    let mut attribute_spans = Vec::new();
    for raw_input in raw.inputs {
        let span = raw_input.span();
        let raw_input = raw_input.into_inner();
        let name = raw_input.name.get_ref().clone();
        if let Some(a) = &raw_input.attribute {
            attribute_spans.push((name.clone(), a.span().start));
        }
        if inputs.iter().any(|i: &Input| i.name == name) {
            errors.push(
                raw_input.name.span().start,
                m,
                Some(format!("inputs.{name}")),
                "duplicate input name".into(),
            );
            continue;
        }
        if let Some(input) = check_input(m, raw_input, errors) {
            inputs.push(input);
        } else if errors.list.len() == before {
            errors.push(
                span.start,
                m,
                Some(format!("inputs.{name}")),
                "invalid input".into(),
            );
        }
    }
    for (n, input) in inputs.iter().enumerate() {
        let Some(path) = &input.attribute else {
            continue;
        };
        if let Some(other) = inputs[..n]
            .iter()
            .find(|o| o.attribute.as_ref().is_some_and(|p| p.overlaps(path)))
        {
            let at = attribute_spans
                .iter()
                .find(|(name, _)| *name == input.name)
                .map_or(0, |(_, at)| *at);
            errors.push(
                at,
                m,
                Some(format!("inputs.{}.attribute", input.name)),
                format!(
                    "`{path}` overlaps the attribute of input `{}`; each input lands in its own attribute",
                    other.name
                ),
            );
        }
    }
    if let Some(tags) = inputs.iter().find(|i| i.name == config::TAGS_INPUT)
        && tags.ty != InputType::Map
    {
        errors.push(
            raw.template.span().start,
            m,
            Some("inputs.tags.type".into()),
            "the `tags` input must be a map (tfpilot merges its computed tags into it)".into(),
        );
    }

    let module = Module {
        module_type,
        title: raw.title.get_ref().clone(),
        description: raw.description,
        category: raw.category.get_ref().clone(),
        file: file.clone(),
        source: raw.source.get_ref().clone(),
        template: raw.template.get_ref().clone(),
        keywords,
        inputs,
        import: None,
    };
    let mut module = module;
    if errors.list.len() == before
        && let Some(raw_import) = raw.import
    {
        module.import = import::check(&module, raw_import, errors);
    }
    if errors.list.len() == before
        && let Err(e) = render::check_template(&module)
    {
        // TOML drops a newline right after the opening `"""`, so the
        // template's first line is then the next line of the file.
        let start = raw.template.span().start;
        let after_quotes = errors.text.get(start + 3..).unwrap_or("");
        let skipped =
            usize::from(after_quotes.starts_with('\n') || after_quotes.starts_with("\r\n"));
        let line = errors.line_of(start) + skipped + e.line.unwrap_or(1) - 1;
        errors.push_line(line, Some(m.to_owned()), Some("template".into()), e.message);
    }
    (errors.list.len() == before).then_some(module)
}

/// A keyword people may use for a module: lowercase words.
fn valid_keyword(word: &str) -> bool {
    (1..=40).contains(&word.len())
        && !word.starts_with(' ')
        && !word.ends_with(' ')
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == ' ')
}

fn check_input(m: &str, raw: RawInput, errors: &mut Errors) -> Option<Input> {
    let before = errors.list.len();
    let name = raw.name.get_ref().clone();
    let field = |f: &str| Some(format!("inputs.{name}.{f}"));
    let valid_name = name.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !valid_name {
        errors.push(
            raw.name.span().start,
            m,
            Some(format!("inputs.{name}.name")),
            "input names use lowercase letters, digits and `_`, starting with a letter".into(),
        );
    }
    let Some(ty) = InputType::parse(raw.ty.get_ref()) else {
        errors.push(
            raw.ty.span().start,
            m,
            field("type"),
            format!(
                "unknown type `{}`; use string, number, bool, enum, list or map",
                raw.ty.get_ref()
            ),
        );
        return None;
    };
    let pattern = match &raw.pattern {
        None => None,
        Some(p) if !matches!(ty, InputType::String | InputType::List) => {
            errors.push(
                p.span().start,
                m,
                field("pattern"),
                "`pattern` applies to string and list inputs only".into(),
            );
            None
        }
        Some(p) => match Pattern::new(p.get_ref()) {
            Ok(p) => Some(p),
            Err(e) => {
                let first = e
                    .lines()
                    .find(|l| l.starts_with("error:"))
                    .unwrap_or(e.lines().next().unwrap_or("invalid"));
                errors.push(
                    p.span().start,
                    m,
                    field("pattern"),
                    format!("invalid regular expression: {}", first.trim()),
                );
                None
            }
        },
    };
    for bound in [("min", &raw.min), ("max", &raw.max)] {
        if let (name, Some(v)) = bound
            && !matches!(ty, InputType::Number | InputType::String | InputType::List)
        {
            errors.push(
                v.span().start,
                m,
                field(name),
                format!("`{name}` applies to number, string and list inputs only"),
            );
        }
    }
    if let (Some(min), Some(max)) = (&raw.min, &raw.max)
        && min.get_ref() > max.get_ref()
    {
        errors.push(
            max.span().start,
            m,
            field("max"),
            format!(
                "`max` ({}) is below `min` ({})",
                max.get_ref(),
                min.get_ref()
            ),
        );
    }
    if let Some(i) = &raw.integer
        && ty != InputType::Number
    {
        errors.push(
            i.span().start,
            m,
            field("integer"),
            "`integer` applies to number inputs only".into(),
        );
    }
    let values = match (&raw.values, ty) {
        (Some(v), InputType::Enum) if v.get_ref().is_empty() => {
            errors.push(
                v.span().start,
                m,
                field("values"),
                "an enum needs at least one value".into(),
            );
            Vec::new()
        }
        (Some(v), InputType::Enum) => v.get_ref().clone(),
        (None, InputType::Enum) => {
            errors.push(
                raw.ty.span().start,
                m,
                field("values"),
                "an enum input needs `values = [...]`".into(),
            );
            Vec::new()
        }
        (Some(v), _) => {
            errors.push(
                v.span().start,
                m,
                field("values"),
                "`values` applies to enum inputs only".into(),
            );
            Vec::new()
        }
        (None, _) => Vec::new(),
    };
    let risk = match &raw.risk {
        None => Risk::Low,
        Some(r) => match r.get_ref().as_str() {
            "low" => Risk::Low,
            "medium" => Risk::Medium,
            "high" => Risk::High,
            other => {
                errors.push(
                    r.span().start,
                    m,
                    field("risk"),
                    format!("unknown risk `{other}`; use low, medium or high"),
                );
                Risk::Low
            }
        },
    };
    let mut input = Input {
        question: raw
            .question
            .unwrap_or_else(|| format!("What should `{name}` be?")),
        name: name.clone(),
        ty,
        description: raw.description,
        required: raw.required,
        default: None,
        example: None,
        pattern,
        min: raw.min.map(Spanned::into_inner),
        max: raw.max.map(Spanned::into_inner),
        integer: raw.integer.is_some_and(Spanned::into_inner),
        values,
        immutable: raw.immutable,
        sensitive: raw.sensitive,
        risk,
        explain: None,
        explain_off: None,
        attribute: None,
    };
    if let Some(a) = &raw.attribute {
        match AttributePath::parse(a.get_ref()) {
            Ok(path) => input.attribute = Some(path),
            Err(rule) => errors.push(a.span().start, m, field("attribute"), rule),
        }
    }
    explain::check(m, &raw.explain, &raw.explain_off, &mut input, errors);
    if let Some(default) = raw.default {
        if input.required {
            errors.push(
                default.span().start,
                m,
                field("default"),
                "a required input cannot have a default".into(),
            );
        } else if errors.list.len() == before {
            match config::check_value(&input, default.get_ref()) {
                Ok(v) => input.default = Some(v),
                Err(e) => errors.push(
                    default.span().start,
                    m,
                    field("default"),
                    format!("default {e}"),
                ),
            }
        }
    }
    match raw.example {
        Some(example) if errors.list.len() == before => {
            match config::check_value(&input, example.get_ref()) {
                Ok(v) => input.example = Some(v),
                Err(e) => errors.push(
                    example.span().start,
                    m,
                    field("example"),
                    format!("example {e}"),
                ),
            }
        }
        Some(_) => {}
        None if input.required => errors.push(
            raw.name.span().start,
            m,
            field("example"),
            "a required input needs an `example` (a valid sample value shown as a hint)".into(),
        ),
        None => {}
    }
    (errors.list.len() == before).then_some(input)
}

mod explain;
mod import;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_attribute;
#[cfg(test)]
mod tests_import;
