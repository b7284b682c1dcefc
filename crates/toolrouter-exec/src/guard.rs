//! The SSRF guard: tool calls reach public addresses only, unless the operator allows more.
//!
//! A tool's URL is partly chosen by users (a `{subdomain}` field, an operator's base URL
//! override) and a model's arguments, so without a guard a tool call could reach the cloud
//! metadata service or an internal admin port. The check runs on the addresses a name resolves
//! to at connect time (a resolver that filters them), so a name that resolves to a public
//! address when checked and a private one when used (DNS rebinding) gains nothing; hosts written
//! as literal IPs never reach a resolver and are checked before sending.

use std::collections::BTreeSet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Which destinations outside the public internet the operator allows.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    hosts: BTreeSet<String>,
    nets: Vec<IpNet>,
}

impl OutboundPolicy {
    /// Public addresses only (the default).
    pub fn public_only() -> OutboundPolicy {
        OutboundPolicy::default()
    }

    /// Allows a host name (or literal IP, as written in URLs) whatever it resolves to.
    pub fn allow_host(mut self, host: impl Into<String>) -> OutboundPolicy {
        let host: String = host.into();
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        self.hosts.insert(host);
        self
    }

    /// Allows every address in a network (`10.0.0.0/8`, `fd00::/8`, or one address).
    pub fn allow_net(mut self, net: IpNet) -> OutboundPolicy {
        self.nets.push(net);
        self
    }

    /// Whether `host`, connecting to `ip`, may be reached.
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        let ip = ip.to_canonical();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if self.hosts.contains(&bare.to_ascii_lowercase())
            || self.nets.iter().any(|n| n.contains(ip))
        {
            return Ok(());
        }
        match non_public_reason(ip) {
            None => Ok(()),
            Some(reason) => Err(Refused {
                host: bare.to_owned(),
                ip,
                reason,
            }),
        }
    }
}

/// A destination the policy does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refused to connect to {host} ({ip}): {reason} addresses are not reachable by tools unless the operator allows them"
)]
pub struct Refused {
    pub host: String,
    pub ip: IpAddr,
    pub reason: &'static str,
}

/// Why an address is not on the public internet, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) if ip == Ipv4Addr::new(169, 254, 169, 254) => "link-local (cloud metadata)",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        (192, 0, 0) => "IETF protocol",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address are judged by it: NAT64 (64:ff9b::/96), the deprecated
    // IPv4-compatible ::a.b.c.d, and 6to4 (2002::/16).
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || seg[..6] == [0; 6] {
        return v4_reason(embedded(seg[6], seg[7]));
    }
    if seg[0] == 0x2002 {
        return v4_reason(embedded(seg[1], seg[2]));
    }
    let reason = match seg[0] {
        s if s & 0xfe00 == 0xfc00 => "private (ULA)",
        s if s & 0xffc0 == 0xfe80 => "link-local",
        s if s & 0xffc0 == 0xfec0 => "site-local",
        s if s & 0xff00 == 0xff00 => "multicast",
        0x2001 if seg[1] == 0x0db8 => "documentation",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard",
        _ => return None,
    };
    Some(reason)
}

/// An IP network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR network (like 10.0.0.0/8)")]
pub struct InvalidNet(String);

impl FromStr for IpNet {
    type Err = InvalidNet;

    fn from_str(s: &str) -> Result<IpNet, InvalidNet> {
        let bad = || InvalidNet(s.to_owned());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr = IpAddr::from_str(addr).map_err(|_| bad())?.to_canonical();
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        Ok(IpNet { addr, prefix })
    }
}

/// The resolver given to the HTTP client: system resolution, then the policy on every address.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver {
    pub(crate) policy: Arc<OutboundPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut allowed = Vec::new();
            let mut refused = None;
            for addr in found {
                match policy.check(&host, addr.ip()) {
                    Ok(()) => allowed.push(addr),
                    Err(e) => {
                        refused.get_or_insert(e);
                    }
                }
            }
            match refused {
                // Boxed directly (not `Box::new(e).into()`, which boxes twice) so the executor can
                // find the refusal in the error chain by its type.
                Some(e) if allowed.is_empty() => Err(e.into()),
                _ => Ok(Box::new(allowed.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn reason(ip: &str) -> &'static str {
        non_public_reason(ip.parse().expect("ip")).unwrap_or("public")
    }

    #[test]
    fn classifies_addresses() {
        let table = [
            "8.8.8.8",
            "127.0.0.1",
            "10.1.2.3",
            "172.20.0.1",
            "172.32.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.1.1",
            "100.64.0.1",
            "100.128.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "198.18.0.1",
            "2606:4700::1",
            "::1",
            "::",
            "fd12::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001:db8::1",
        ];
        let got: Vec<String> = table
            .iter()
            .map(|ip| format!("{ip:<18} {}", reason(ip)))
            .collect();
        expect![[r#"
            8.8.8.8            public
            127.0.0.1          loopback
            10.1.2.3           private
            172.20.0.1         private
            172.32.0.1         public
            192.168.1.1        private
            169.254.169.254    link-local (cloud metadata)
            169.254.1.1        link-local
            100.64.0.1         shared (CGNAT)
            100.128.0.1        public
            0.0.0.0            unspecified
            224.0.0.1          multicast
            255.255.255.255    reserved
            198.18.0.1         benchmarking
            2606:4700::1       public
            ::1                loopback
            ::                 unspecified
            fd12::1            private (ULA)
            fe80::1            link-local
            ff02::1            multicast
            ::ffff:127.0.0.1   loopback
            ::ffff:8.8.8.8     public
            64:ff9b::a00:1     private
            2002:c0a8:101::1   private
            2001:db8::1        documentation"#]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn operator_allowances_by_host_and_network() {
        let loopback: IpAddr = "127.0.0.1".parse().expect("ip");
        let private: IpAddr = "10.0.0.5".parse().expect("ip");
        let default = OutboundPolicy::public_only();
        expect!["refused to connect to localhost (127.0.0.1): loopback addresses are not reachable by tools unless the operator allows them"]
            .assert_eq(&default.check("localhost", loopback).expect_err("refused").to_string());
        let policy = OutboundPolicy::public_only()
            .allow_host("127.0.0.1")
            .allow_net("10.0.0.0/24".parse().expect("net"));
        assert!(policy.check("127.0.0.1", loopback).is_ok());
        assert!(
            policy.check("localhost", loopback).is_err(),
            "allowing an IP host does not allow names"
        );
        assert!(policy.check("internal.corp", private).is_ok());
        assert!(policy.check("x", "10.0.1.5".parse().expect("ip")).is_err());
    }

    #[test]
    fn parses_networks() {
        let net: IpNet = "fd00::/8".parse().expect("net");
        assert!(net.contains("fd12::1".parse().expect("ip")));
        assert!(!net.contains("fe80::1".parse().expect("ip")));
        assert_eq!(
            "192.168.1.7".parse::<IpNet>().expect("net").to_string(),
            "192.168.1.7/32"
        );
        assert!("10.0.0.0/33".parse::<IpNet>().is_err());
        assert!("nonsense".parse::<IpNet>().is_err());
    }
}
