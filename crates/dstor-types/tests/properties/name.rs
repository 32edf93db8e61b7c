use dstor_types::{
    Environment, FileName, MAX_FILE_NAME_LEN, Multipart, UploadRequestError, UploadTokenRequest,
};
use proptest::prelude::*;

use crate::assertions::bounded;
use crate::harness::check;

/// Names: ordinary relative paths, the near misses the rules exist for (absolute, drive,
/// `.`/`..`, empty and blank segments, control characters, quotes, CR LF), and any text.
fn names() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        4 => "[^\\x00-\\x1f\\x7f/\\\\]{1,12}".prop_map(String::from),
        1 => prop::sample::select(vec![".", "..", "", " ", "\t", "a\"b", "c\\d", "é", "C:", "x\r\nContent-Type: text/html"])
            .prop_map(str::to_owned),
    ];
    let separator = prop::sample::select(vec!["/", "\\"]);
    let path = (
        prop::sample::select(vec!["", "", "", "/", "\\", "C:", "c:/"]),
        proptest::collection::vec((segment, separator), 1..5),
        prop::sample::select(vec!["", "", "/"]),
    )
        .prop_map(|(lead, parts, tail)| {
            let mut out = lead.to_owned();
            for (i, (segment, sep)) in parts.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                out.push_str(segment);
            }
            out.push_str(tail);
            out
        });
    prop_oneof![
        4 => path,
        1 => (1000..1100usize).prop_map(|n| "n".repeat(n)),
        1 => any::<String>(),
    ]
}

/// The rules a stored name follows, written out again: not empty, at most
/// [`MAX_FILE_NAME_LEN`] bytes, no control character, relative (no leading separator, no
/// drive), and `/`- or `\`-separated segments that are neither empty, `.`, `..` nor blank.
fn follows_the_rules(name: &str, folder: bool) -> bool {
    if name.is_empty() || name.len() > MAX_FILE_NAME_LEN || name.chars().any(char::is_control) {
        return false;
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return false;
    }
    let inner = if folder {
        name.trim_matches(['/', '\\'])
    } else if name.starts_with(['/', '\\']) {
        return false;
    } else {
        name
    };
    if folder && inner.is_empty() {
        return true;
    }
    inner
        .split(['/', '\\'])
        .all(|s| !s.is_empty() && s != "." && s != ".." && !s.trim().is_empty())
}

/// Reads a part header back with httparse (hyper's header parser): the boundary line,
/// then exactly two headers; gives the `filename` parameter, unescaped.
fn read_part_header(form: &Multipart, header: &[u8]) -> Result<String, String> {
    let delimiter = format!("--{}\r\n", form.boundary());
    let rest = header
        .strip_prefix(delimiter.as_bytes())
        .ok_or("no delimiter line")?;
    let mut headers = [httparse::EMPTY_HEADER; 4];
    let (used, parsed) = match httparse::parse_headers(rest, &mut headers) {
        Ok(httparse::Status::Complete(done)) => done,
        other => return Err(format!("not a header block: {other:?}")),
    };
    if used != rest.len() || parsed.len() != 2 {
        return Err(format!(
            "{} headers, {used} of {} bytes",
            parsed.len(),
            rest.len()
        ));
    }
    let value = std::str::from_utf8(parsed[0].value).map_err(|e| e.to_string())?;
    let quoted = value
        .strip_prefix("form-data; name=\"file\"; filename=\"")
        .ok_or(format!("disposition {value:?}"))?;
    let mut name = String::new();
    let mut chars = quoted.chars();
    loop {
        match chars.next().ok_or("unterminated filename")? {
            '\\' => name.push(chars.next().ok_or("dangling escape")?),
            '"' => break,
            c => name.push(c),
        }
    }
    match chars.next() {
        None => Ok(name),
        Some(_) => Err("text after the filename".into()),
    }
}

/// `FileName::new` and `UploadTokenRequest::folder_path`: accepted exactly when the rules
/// allow, errors bounded and never repeating the name; and every accepted name frames
/// into a part header that httparse reads back as the same name and two headers, of the
/// length `Multipart` announces.
#[test]
fn fuzz_file_name() {
    check("file_name", file!(), names(), |name| {
        let base = || Environment::Testnet.base_url();
        let folder = UploadTokenRequest::new(base(), 1)
            .expect("one chunk")
            .folder_path(&name);
        prop_assert_eq!(
            folder.is_ok(),
            follows_the_rules(&name, true),
            "folder {:?}",
            name
        );
        if let Err(err) = folder {
            let invalid = matches!(err, UploadRequestError::InvalidFolder { .. });
            prop_assert!(invalid, "{err:?}");
            bounded(&err.to_string(), 300)?;
        }
        match FileName::new(name.clone()) {
            Ok(accepted) => {
                prop_assert!(follows_the_rules(&name, false), "accepted {name:?}");
                prop_assert_eq!(accepted.as_str(), name.as_str());
                let form = Multipart::new();
                let header = form.part_header(&accepted);
                prop_assert_eq!(header.len(), form.part_header_len(&accepted));
                let read = read_part_header(&form, &header);
                prop_assert_eq!(read.as_deref(), Ok(name.as_str()));
                let size = name.len() as u64;
                let whole = header.len() + name.len() + 2 + form.closing().len();
                prop_assert_eq!(form.body_len([(&accepted, size)]), Some(whole as u64));
            }
            Err(err) => {
                prop_assert!(!follows_the_rules(&name, false), "refused {name:?}: {err}");
                let text = format!("{err} {err:?}");
                bounded(&text, 300)?;
                if name.chars().count() >= 12 {
                    prop_assert!(!text.contains(&name), "{text}");
                }
            }
        }
        Ok(())
    });
}
