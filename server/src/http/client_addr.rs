//! The client's address, for sign-in limits and the audit log.
//!
//! The peer of the connection, unless it is one of
//! `TFPILOT_TRUSTED_PROXIES`: then `X-Forwarded-For` is read from the
//! right (each proxy appends the address it was called from) and the first
//! address that is not a trusted proxy is the client. What a client writes
//! into the header itself sits to the left of that and is never believed.

use axum::http::HeaderMap;
use ipnet::IpNet;
use std::net::IpAddr;

fn trusted(address: IpAddr, proxies: &[IpNet]) -> bool {
    proxies.iter().any(|net| net.contains(&address))
}

/// The client behind `peer` given the request's headers.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted(client, proxies) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        // Something that is not an address was not written by a proxy we
        // trust: the hop that handed it on is the client.
        let Some(address) = hop_address(hop) else {
            return client;
        };
        client = address.to_canonical();
        if !trusted(client, proxies) {
            return client;
        }
    }
    client
}

/// The address of one `X-Forwarded-For` hop: a bare address, or one with
/// a port as some proxies write it (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(address);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|s| s.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxies: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.1/32".parse().unwrap(),
        ];
        let table: &[(&str, &[&str], &str)] = &[
            // Not from a proxy: the header is ignored.
            ("203.0.113.9", &["198.51.100.1"], "203.0.113.9"),
            // From a proxy: the right-most address that is not one.
            ("10.1.1.1", &["198.51.100.1"], "198.51.100.1"),
            ("10.1.1.1", &["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
            (
                "10.1.1.1",
                &["6.6.6.6, 198.51.100.1, 192.0.2.1, 10.2.2.2"],
                "198.51.100.1",
            ),
            (
                "10.1.1.1",
                &["6.6.6.6", "198.51.100.1, 10.9.9.9"],
                "198.51.100.1",
            ),
            // No header, or only proxies: the nearest proxy.
            ("10.1.1.1", &[], "10.1.1.1"),
            ("10.1.1.1", &["10.2.2.2"], "10.2.2.2"),
            // Garbage: the hop that passed it on.
            ("10.1.1.1", &["198.51.100.1, nonsense"], "10.1.1.1"),
            ("10.1.1.1", &["nonsense, 10.2.2.2"], "10.2.2.2"),
            ("::ffff:10.1.1.1", &["2001:db8::5"], "2001:db8::5"),
            // Hops written with a port.
            ("10.1.1.1", &["198.51.100.1:4711"], "198.51.100.1"),
            ("10.1.1.1", &["[2001:db8::7]:4711, 10.2.2.2"], "2001:db8::7"),
        ];
        for (peer, xff, want) in table {
            assert_eq!(
                client_addr(ip(peer), &headers(xff), &proxies),
                ip(want),
                "{peer} {xff:?}"
            );
        }
        assert_eq!(
            client_addr(ip("10.1.1.1"), &headers(&["198.51.100.1"]), &[]),
            ip("10.1.1.1"),
            "no trusted proxies, no header believed"
        );
    }
}
