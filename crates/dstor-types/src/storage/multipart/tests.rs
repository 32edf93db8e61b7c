//! The framing, read back with `httparse` (hyper's header parser, which we did not write).

use proptest::prelude::*;

use super::*;

/// Reads a part header with httparse: the boundary line, then exactly the two headers; gives
/// the `filename` parameter, unescaped.
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
    if used != rest.len() {
        return Err("bytes after the header block".into());
    }
    let names: Vec<_> = parsed.iter().map(|h| h.name.to_ascii_lowercase()).collect();
    if names != ["content-disposition", "content-type"] {
        return Err(format!("headers {names:?}"));
    }
    if parsed[1].value != b"application/octet-stream" {
        return Err("content type".into());
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
    if chars.next().is_some() {
        return Err("text after the filename".into());
    }
    Ok(name)
}

#[test]
fn escapes_quotes_and_backslashes_and_keeps_utf8() {
    let form = Multipart::with_boundary("xyz").unwrap();
    let name = FileName::new("caf\u{e9} \"q\" a\\b.txt").unwrap();
    let header = form.part_header(&name);
    assert!(
        String::from_utf8_lossy(&header).contains(r#"filename="café \"q\" a\\b.txt""#),
        "{}",
        String::from_utf8_lossy(&header)
    );
    assert_eq!(read_part_header(&form, &header).unwrap(), name.as_str());
    assert_eq!(header.len(), form.part_header_len(&name));
}

#[test]
fn refuses_boundaries_a_header_or_body_cannot_carry() {
    for bad in [
        "",
        &"a".repeat(71),
        "a b",
        "a\"b",
        "a\r\nb",
        "a;b",
        "caf\u{e9}",
    ] {
        assert_eq!(
            Multipart::with_boundary(bad),
            Err(MultipartError::InvalidBoundary),
            "{bad:?}"
        );
    }
    assert!(Multipart::with_boundary(&"a".repeat(70)).is_ok());
}

#[test]
fn fresh_boundaries_are_valid_and_differ() {
    let (a, b) = (Multipart::new(), Multipart::new());
    assert_ne!(a.boundary(), b.boundary());
    assert_eq!(a.boundary().len(), "dstor-rs-".len() + 32);
    assert_eq!(Multipart::with_boundary(a.boundary()).unwrap(), a);
}

#[test]
fn body_len_overflow_is_none() {
    let form = Multipart::new();
    let name = FileName::new("a").unwrap();
    assert_eq!(form.body_len([(&name, u64::MAX)]), None);
    assert_eq!(form.body_len([]), Some(form.closing().len() as u64));
}

proptest! {
    /// Any text either is refused as a name or frames a part whose header block has exactly
    /// the two headers and gives the name back: no name adds a header or ends the part.
    #[test]
    fn no_name_injects_a_header(name in any::<String>(), crlf in "[a-z\"\\\\]{0,3}(\r\n|\r|\n)?[a-zA-Z: -]{0,12}") {
        for name in [name.clone(), format!("{name}{crlf}"), format!("x\"; name=\"other{crlf}")] {
            let Ok(name) = FileName::new(name) else { continue };
            let form = Multipart::with_boundary("bnd").unwrap();
            let header = form.part_header(&name);
            prop_assert_eq!(read_part_header(&form, &header), Ok(name.as_str().to_owned()));
            prop_assert_eq!(header.len(), form.part_header_len(&name));
        }
    }

    /// The announced length is the length of the body framed part by part.
    #[test]
    fn body_len_is_exact(files in proptest::collection::vec(("[^\u{0}-\u{1f}\u{7f}/\\\\]{1,20}", 0usize..300), 0..6)) {
        let form = Multipart::new();
        let files: Vec<(FileName, Vec<u8>)> = files
            .into_iter()
            .filter_map(|(name, size)| Some((FileName::new(name).ok()?, vec![b'-'; size])))
            .collect();
        let mut body = Vec::new();
        for (name, content) in &files {
            body.extend_from_slice(&form.part_header(name));
            body.extend_from_slice(content);
            body.extend_from_slice(Multipart::PART_END);
        }
        body.extend_from_slice(&form.closing());
        let len = form.body_len(files.iter().map(|(n, c)| (n, c.len() as u64)));
        prop_assert_eq!(len, Some(body.len() as u64));
        let delimiter = format!("\r\n--{}", form.boundary());
        let text = String::from_utf8_lossy(&body);
        prop_assert_eq!(text.matches(&delimiter).count(), files.len());
    }
}
