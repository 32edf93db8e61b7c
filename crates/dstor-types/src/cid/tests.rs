use proptest::prelude::*;

use super::*;
use crate::Environment;

const HELLO: &str = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN";
const EMPTY: &str = "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH";
/// The CIDv1 of `hello\n` as a raw block (`ipfs add --cid-version 1`), and the same CID in
/// base58btc and base16.
const V1_RAW: &str = "bafkreiblaotetvwobe7cu2uqvnddr6ew2q3cu75qsoweulzku2egca4dxq";

#[test]
fn accepts_cidv0_and_prints_it_back() {
    for text in [HELLO, EMPTY] {
        let cid = Cid::parse(text).unwrap();
        assert!(cid.is_v0());
        assert_eq!(cid.to_string(), text);
        assert_eq!(format!("{cid:?}"), format!("Cid({text})"));
        assert_eq!(Cid::parse(&format!("  {text}\n")).unwrap(), cid);
    }
    assert_eq!(Cid::parse(EMPTY).unwrap(), CidBuilder::new().finish());
}

#[test]
fn accepts_cidv1_in_other_multibases_and_prints_base32() {
    let cid = Cid::parse(V1_RAW).unwrap();
    assert!(!cid.is_v0());
    assert_eq!(cid.to_string(), V1_RAW);
    let bytes = multibase::decode(V1_RAW).unwrap().1;
    for base in [
        multibase::Base::Base58Btc,
        multibase::Base::Base16Lower,
        multibase::Base::Base36Lower,
        multibase::Base::Base64Url,
        multibase::Base::Base32Upper,
    ] {
        let text = multibase::encode(base, &bytes);
        assert_eq!(Cid::parse(&text).unwrap(), cid, "{text}");
        assert_eq!(Cid::parse(&text).unwrap().to_string(), V1_RAW);
    }
}

#[test]
fn refuses_what_is_not_a_cid_and_says_why() {
    let v1 = multibase::decode(V1_RAW).unwrap().1;
    let trailing = multibase::encode(multibase::Base::Base32Lower, [&v1[..], &[0]].concat());
    let v0_bytes = multibase::Base::Base58Btc.decode(HELLO).unwrap();
    let prefixed_v0 = multibase::encode(multibase::Base::Base32Lower, &v0_bytes);
    let mut wrong_prefix = v0_bytes;
    wrong_prefix[1] = 0x1f;
    let cases: Vec<(String, CidError)> = vec![
        (String::new(), CidError::Empty),
        ("   ".into(), CidError::Empty),
        ("Q".repeat(300), CidError::TooLong { len: 300 }),
        (
            format!("{}/x", &HELLO[..44]),
            CidError::BadCharacter { position: 45 },
        ),
        (
            format!("https://evil.example/ipfs/{HELLO}"),
            CidError::BadCharacter { position: 6 },
        ),
        (HELLO[..45].into(), CidError::V0Length { len: 45 }),
        (format!("{HELLO}a"), CidError::V0Length { len: 47 }),
        (
            format!("Qm0{}", &HELLO[3..]),
            CidError::NotBase58 { position: 3 },
        ),
        (
            multibase::Base::Base58Btc.encode(&wrong_prefix),
            CidError::NotSha256,
        ),
        ("xyz".into(), CidError::UnknownMultibase),
        ("b1".into(), CidError::BadMultibase),
        // Version 1 and then nothing; version 2.
        (
            multibase::encode(multibase::Base::Base32Lower, [1]),
            CidError::BadBinary,
        ),
        (
            multibase::encode(
                multibase::Base::Base32Lower,
                [&[2u8][..], &v1[1..]].concat(),
            ),
            CidError::BadBinary,
        ),
        (trailing, CidError::TrailingBytes),
        (prefixed_v0, CidError::PrefixedV0),
    ];
    for (text, expected) in cases {
        let err = Cid::parse(&text).unwrap_err();
        assert_eq!(err, expected, "{text:?}");
        let message = err.to_string();
        assert!(message.starts_with(char::is_lowercase), "{message}");
        if text.len() >= 8 {
            assert!(!message.contains(&text[..8]), "{message} repeats {text:?}");
        }
    }
}

#[test]
fn gateway_url_is_below_the_base() {
    let cid = Cid::parse(HELLO).unwrap();
    let url = cid.gateway_url(&Environment::Testnet.base_url()).unwrap();
    assert_eq!(
        url,
        format!("https://api.testnet.dstor.cloud/ipfs/{HELLO}").as_str()
    );
    let proxy = BaseUrl::parse("http://127.0.0.1:8080/dstor/").unwrap();
    assert_eq!(
        cid.gateway_url(&proxy).unwrap(),
        format!("http://127.0.0.1:8080/dstor/ipfs/{HELLO}").as_str()
    );
}

#[test]
fn serde_reads_and_writes_the_text() {
    let cid: Cid = serde_json::from_str(&format!("\"{HELLO}\"")).unwrap();
    assert_eq!(cid.to_string(), HELLO);
    assert_eq!(serde_json::to_string(&cid).unwrap(), format!("\"{HELLO}\""));
    let err = serde_json::from_str::<Cid>("\"Qm123\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("46 characters"), "{err}");
    assert!(serde_json::from_str::<Cid>("42").is_err());
}

proptest! {
    /// No text makes the parser panic, and an error never repeats the text.
    #[test]
    fn any_text_is_parsed_or_refused(text in any::<String>()) {
        if let Err(err) = Cid::parse(&text) {
            let trimmed = text.trim();
            if trimmed.chars().count() >= 8 {
                prop_assert!(!err.to_string().contains(trimmed));
            }
        }
    }

    /// Text shaped like a CID (a base prefix and URL-safe characters) never panics either.
    #[test]
    fn cid_shaped_text_is_parsed_or_refused(text in "(Qm|b|z|k|f|u|B)[a-zA-Z0-9_-]{0,80}") {
        if let Ok(cid) = Cid::parse(&text) {
            // Whatever is accepted prints as text that parses back to it.
            prop_assert_eq!(Cid::parse(&cid.to_string()).unwrap(), cid);
        }
    }

    /// Every sha2-256 digest is a CIDv0 that prints as 46 characters and parses back, and
    /// its gateway URL ends with it.
    #[test]
    fn every_digest_round_trips(digest in any::<[u8; 32]>()) {
        let cid = Cid::from_v0_digest(digest);
        let text = cid.to_string();
        prop_assert_eq!(text.len(), 46);
        prop_assert!(text.starts_with("Qm"));
        prop_assert_eq!(Cid::parse(&text).unwrap(), cid);
        let url = cid.gateway_url(&Environment::Production.base_url()).unwrap();
        prop_assert_eq!(url.path(), format!("/ipfs/{text}"));
    }

    /// Every CIDv1 of a sha2-256 digest, in any codec, is accepted and printed in base32.
    #[test]
    fn every_cidv1_round_trips(digest in any::<[u8; 32]>(), codec in any::<u64>()) {
        let hash = cid::multihash::Multihash::<64>::wrap(0x12, &digest).unwrap();
        let theirs = cid::Cid::new_v1(codec, hash);
        let ours = Cid::parse(&theirs.to_string()).unwrap();
        prop_assert_eq!(ours.to_string(), theirs.to_string());
        let base58 = theirs.to_string_of_base(multibase::Base::Base58Btc).unwrap();
        prop_assert_eq!(Cid::parse(&base58).unwrap(), ours);
    }
}
