//! gzip for the status site's public responses. API Gateway's HTTP APIs pass a function's
//! body through as it is, and the status page of a large vendor is a few hundred kilobytes
//! of HTML (90 labelled bars per component) that shrinks about tenfold: on a phone with a
//! weak signal, during the outage that sent its owner to the page, that is the difference
//! that matters. Only what a client says it accepts is compressed, and every compressible
//! response says `Vary: Accept-Encoding`, so a cache in front keeps the two forms apart.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use super::{SiteRequest, SiteResponse};

/// Bodies smaller than this are sent as they are: gzip's framing would eat the saving.
pub const MIN_COMPRESSED: usize = 1024;

/// Whether an `Accept-Encoding` value accepts gzip: named (or `*`) with a non-zero quality.
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    let mut gzip = None;
    let mut any = None;
    for part in accept_encoding.split(',') {
        let mut pieces = part.split(';');
        let coding = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let quality = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next_back()
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(quality > 0.0),
            "*" => any = Some(quality > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// `response`, gzipped if `request` accepts it and it is worth it, with `Vary` set either way.
pub fn negotiate(request: &SiteRequest, response: SiteResponse) -> SiteResponse {
    let mut response = response.with("Vary", "Accept-Encoding");
    let wanted = request.header("accept-encoding").is_some_and(accepts_gzip);
    if !wanted || response.body.len() < MIN_COMPRESSED {
        return response;
    }
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(response.body.len() / 4),
        Compression::default(),
    );
    // Writing to a Vec cannot fail; if it somehow did, the plain body is still right.
    match encoder
        .write_all(&response.body)
        .and_then(|()| encoder.finish())
    {
        Ok(compressed) => {
            response.body = compressed;
            response.with("Content-Encoding", "gzip")
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not gzip a response; sent as it is");
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::*;

    #[test]
    fn what_counts_as_accepting_gzip() {
        for yes in [
            "gzip",
            "gzip, deflate, br, zstd",
            "br;q=1.0, GZIP;q=0.5",
            "*",
            "identity, *;q=0.1",
            "gzip;q=0.001",
        ] {
            assert!(accepts_gzip(yes), "{yes}");
        }
        for no in [
            "",
            "identity",
            "br",
            "gzip;q=0",
            "gzip;q=0.0, br",
            "*;q=0",
            "gzip;q=0, *",
            "gzipped",
        ] {
            assert!(!accepts_gzip(no), "{no}");
        }
    }

    fn page(accept: Option<&str>, size: usize) -> (SiteResponse, Vec<u8>) {
        let mut request = SiteRequest::new("GET", "/");
        if let Some(accept) = accept {
            request
                .headers
                .push(("accept-encoding".into(), accept.into()));
        }
        let body: Vec<u8> = "<li>21 Nov 2026: No downtime, 100% uptime</li>\n"
            .bytes()
            .cycle()
            .take(size)
            .collect();
        let response = SiteResponse::new(200, "text/html; charset=utf-8", body.clone());
        (negotiate(&request, response), body)
    }

    #[test]
    fn a_large_body_is_gzipped_for_a_client_that_accepts_it_and_unzips_to_the_same_bytes() {
        let (response, plain) = page(Some("gzip, deflate, br"), 200_000);
        assert_eq!(response.header("content-encoding"), Some("gzip"));
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
        assert!(
            response.body.len() * 10 < plain.len(),
            "{}",
            response.body.len()
        );
        let mut unzipped = Vec::new();
        GzDecoder::new(response.body.as_slice())
            .read_to_end(&mut unzipped)
            .expect("valid gzip");
        assert_eq!(unzipped, plain);
    }

    #[test]
    fn small_bodies_and_clients_without_gzip_get_the_plain_body_and_vary() {
        for (accept, size) in [
            (Some("gzip"), MIN_COMPRESSED - 1),
            (None, 200_000),
            (Some("br"), 200_000),
            (Some("gzip;q=0"), 200_000),
        ] {
            let (response, plain) = page(accept, size);
            assert_eq!(response.header("content-encoding"), None, "{accept:?}");
            assert_eq!(response.header("vary"), Some("Accept-Encoding"));
            assert_eq!(response.body, plain);
        }
    }
}
