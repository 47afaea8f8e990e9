//! Round trips, and every way a sealed secret can be wrong: a flipped bit,
//! a record's secret moved to another record, an unknown key.

use super::*;
use crate::ids::OsIds;

fn ring(byte: u8) -> Keyring {
    Keyring::single(MasterKey::new([byte; 32]))
}

fn flip(text: &str, at: usize) -> String {
    let mut bytes = B64.decode(text).unwrap();
    bytes[at] ^= 0x01;
    B64.encode(bytes)
}

#[test]
fn a_sealed_secret_opens_for_its_record() {
    let ring = ring(7);
    let sealed = ring.seal(&OsIds, "slack", "default", b"xoxb-secret");
    assert_eq!(sealed.key_id, ring.current.id());
    assert_eq!(B64.decode(&sealed.nonce).unwrap().len(), 12);
    assert!(!sealed.ciphertext.contains("xoxb"));
    assert_eq!(
        ring.open("slack", "default", &sealed).unwrap(),
        b"xoxb-secret"
    );
}

#[test]
fn two_seals_of_one_value_differ() {
    let ring = ring(7);
    let a = ring.seal(&OsIds, "tfc", "default", b"token");
    let b = ring.seal(&OsIds, "tfc", "default", b"token");
    assert_ne!(a.nonce, b.nonce);
    assert_ne!(a.ciphertext, b.ciphertext);
}

#[test]
fn the_key_id_is_short_stable_and_never_the_key() {
    let a = MasterKey::new([1; 32]);
    assert_eq!(a.id(), MasterKey::new([1; 32]).id());
    assert_ne!(a.id(), MasterKey::new([2; 32]).id());
    assert_eq!(a.id().len(), 9);
    assert!(a.id().starts_with('k'));
    assert_eq!(format!("{a:?}"), format!("MasterKey({})", a.id()));
    assert!(!format!("{a:?}").contains(&a.to_base64()));
}

#[test]
fn every_tampering_is_refused_with_a_clear_error() {
    let ring = ring(7);
    let sealed = ring.seal(&OsIds, "slack", "default", b"xoxb-secret");
    let tampered = OpenError::Tampered {
        key_id: sealed.key_id.clone(),
    };
    let cases: Vec<(&str, &str, Sealed)> = vec![
        (
            "slack",
            "default",
            Sealed {
                ciphertext: flip(&sealed.ciphertext, 0),
                ..sealed.clone()
            },
        ),
        (
            "slack",
            "default",
            Sealed {
                ciphertext: flip(&sealed.ciphertext, 12),
                ..sealed.clone()
            },
        ),
        (
            "slack",
            "default",
            Sealed {
                nonce: flip(&sealed.nonce, 11),
                ..sealed.clone()
            },
        ),
        (
            "slack",
            "default",
            Sealed {
                nonce: "not base64!".into(),
                ..sealed.clone()
            },
        ),
        (
            "slack",
            "default",
            Sealed {
                nonce: B64.encode([0u8; 8]),
                ..sealed.clone()
            },
        ),
        // The same ciphertext moved to another record: another name, another kind.
        ("slack", "other", sealed.clone()),
        ("tfc", "default", sealed.clone()),
        ("slac", "kdefault", sealed.clone()),
    ];
    for (kind, name, s) in cases {
        assert_eq!(
            ring.open(kind, name, &s),
            Err(tampered.clone()),
            "{kind}/{name} {s:?}"
        );
    }
    let message = tampered.to_string();
    assert!(
        message.contains("wrong key, or the record was altered or moved"),
        "{message}"
    );
}

#[test]
fn a_key_of_another_id_is_named_and_the_old_key_still_opens() {
    let old = ring(1);
    let sealed = old.seal(&OsIds, "model", "default", b"sk-1");
    let new = ring(2);
    let err = new.open("model", "default", &sealed).unwrap_err();
    assert!(matches!(err, OpenError::UnknownKey { .. }));
    let message = err.to_string();
    assert!(
        message.contains(&format!("encrypted with key {}", sealed.key_id)),
        "{message}"
    );
    assert!(
        message.contains("TFPILOT_MASTER_KEY_OLD (not set)"),
        "{message}"
    );
    let rotating = Keyring {
        current: new.current.clone(),
        old: Some(old.current.clone()),
    };
    assert_eq!(rotating.open("model", "default", &sealed).unwrap(), b"sk-1");
    // A key id rewritten to the other held key does not authenticate.
    let relabelled = Sealed {
        key_id: new.current.id().to_owned(),
        ..sealed
    };
    assert!(matches!(
        rotating.open("model", "default", &relabelled),
        Err(OpenError::Tampered { .. })
    ));
}
