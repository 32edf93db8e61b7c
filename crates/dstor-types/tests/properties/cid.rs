use cid::multibase::{self, Base};
use cid::multihash::Multihash;
use dstor_types::{Cid, MAX_CID_LEN};
use proptest::prelude::*;

use crate::assertions::bounded;
use crate::harness::check;

/// The multibases a CID's text may be written in: URL-safe alphabets, and others.
fn bases() -> impl Strategy<Value = Base> {
    prop_oneof![
        Just(Base::Base32Lower),
        Just(Base::Base32Upper),
        Just(Base::Base58Btc),
        Just(Base::Base36Lower),
        Just(Base::Base36Upper),
        Just(Base::Base16Lower),
        Just(Base::Base16Upper),
        Just(Base::Base64Url),
        Just(Base::Base32HexLower),
        Just(Base::Base64),
        Just(Base::Base64UrlPad),
        Just(Base::Base10),
        Just(Base::Base2),
    ]
}

/// A CID as the `cid` crate builds it: a CIDv0 of a sha2-256 digest, or a CIDv1 of any
/// codec over a multihash of any code and a digest of 0 to 64 bytes.
fn reference_cids() -> impl Strategy<Value = cid::Cid> {
    let v0 = any::<[u8; 32]>().prop_map(|digest| {
        let hash = Multihash::<64>::wrap(0x12, &digest).expect("32 bytes fit");
        cid::Cid::new_v0(hash).expect("a sha2-256 multihash")
    });
    let codec = prop_oneof![Just(0x70u64), Just(0x55), Just(0x71), any::<u64>()];
    let code = prop_oneof![Just(0x12u64), Just(0x1e), Just(0x00), any::<u64>()];
    let v1 = (codec, code, proptest::collection::vec(any::<u8>(), 0..=64)).prop_map(
        |(codec, code, digest)| {
            let hash = Multihash::<64>::wrap(code, &digest).expect("at most 64 bytes");
            cid::Cid::new_v1(codec, hash)
        },
    );
    prop_oneof![v0, v1]
}

/// The text of `cid` in `base` (a CIDv0 is always base58btc, with no prefix).
fn text_of(cid: &cid::Cid, base: Base) -> String {
    match cid.version() {
        cid::Version::V0 => cid.to_string(),
        cid::Version::V1 => cid
            .to_string_of_base(base)
            .expect("a CIDv1 is written in any base"),
    }
}

/// Whether text of this shape is what `Cid::parse` takes: at most [`MAX_CID_LEN`]
/// characters of a URL-safe alphabet.
fn url_safe(text: &str) -> bool {
    text.len() <= MAX_CID_LEN
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// CID text: valid in every base, then cut, extended, or with one character changed;
/// and CID-shaped or arbitrary text.
fn texts() -> impl Strategy<Value = String> {
    let valid = || (reference_cids(), bases()).prop_map(|(cid, base)| text_of(&cid, base));
    let mutated =
        (valid(), any::<usize>(), any::<char>(), 0..4u8).prop_map(|(text, at, c, how)| {
            let mut chars: Vec<char> = text.chars().collect();
            let at = at % chars.len().max(1);
            match how {
                0 => chars.truncate(at),
                1 => chars.insert(at, c),
                2 if !chars.is_empty() => chars[at] = c,
                _ => chars.push(c),
            }
            chars.into_iter().collect()
        });
    prop_oneof![
        4 => valid(),
        3 => mutated,
        1 => "(Qm|b|B|z|k|K|f|F|u|U|m|9|0)[a-zA-Z0-9_=+/-]{0,90}".prop_map(String::from),
        1 => any::<String>(),
    ]
}

/// `Cid::parse` (and so `Cid::from_str`) on valid and hostile text: no panic, bounded
/// messages that never repeat the text, and the same answer as the `cid` crate wherever
/// the two overlap: text both read names the same CID, printed the same way; every CIDv0
/// and every whole CIDv1 the `cid` crate reads from URL-safe text is accepted.
#[test]
fn fuzz_cid_text() {
    check("cid_text", file!(), texts(), |text| {
        let ours = text.parse::<Cid>();
        let reference = cid::Cid::try_from(text.trim());
        match (&ours, &reference) {
            (Ok(got), Ok(want)) => {
                prop_assert_eq!(got.is_v0(), want.version() == cid::Version::V0);
                prop_assert_eq!(got.to_string(), want.to_string());
                let again = Cid::parse(&got.to_string());
                prop_assert_eq!(again.as_ref(), Ok(got));
            }
            (Ok(got), Err(e)) => {
                return Err(TestCaseError::fail(format!(
                    "accepted {text:?} as {got}, which the cid crate refuses: {e}"
                )));
            }
            (Err(err), Ok(want)) => {
                // The `cid` crate also reads other alphabets, CIDv0 in a multibase, and a
                // CIDv1 followed by more bytes; nothing else may be refused.
                let whole = want.to_bytes().len() == decoded_len(&text);
                let refusable = !url_safe(&text)
                    || (want.version() == cid::Version::V1 && !whole)
                    || (want.version() == cid::Version::V0 && !text.starts_with("Qm"));
                prop_assert!(refusable, "refused {text:?} ({want}): {err}");
            }
            (Err(_), Err(_)) => {}
        }
        if let Err(err) = ours {
            let message = format!("{err} {err:?}");
            bounded(&message, 300)?;
            if text.len() >= 8 {
                prop_assert!(!message.contains(&text), "{message}");
            }
        }
        Ok(())
    });
}

/// Valid CIDs in URL-safe text, of both versions, are always accepted and name what the
/// `cid` crate built.
#[test]
fn a_valid_cid_is_always_accepted() {
    let strategy = (reference_cids(), bases()).prop_filter("URL-safe text", |(cid, base)| {
        url_safe(&text_of(cid, *base))
    });
    check("cid_text_valid", file!(), strategy, |(want, base)| {
        let text = text_of(&want, base);
        let got = Cid::parse(&text);
        prop_assert!(got.is_ok(), "refused {text:?}: {got:?}");
        let got = got.expect("checked");
        prop_assert_eq!(got.is_v0(), want.version() == cid::Version::V0);
        prop_assert_eq!(got.to_string(), want.to_string());
        let padded = Cid::parse(&format!(" {text}\n"));
        prop_assert_eq!(padded, Ok(got));
        Ok(())
    });
}

/// The number of bytes the multibase text decodes to (0 when it does not).
fn decoded_len(text: &str) -> usize {
    if text.len() == 46 && text.starts_with("Qm") {
        return Base::Base58Btc.decode(text).map_or(0, |b| b.len());
    }
    multibase::decode(text).map_or(0, |(_, bytes)| bytes.len())
}
