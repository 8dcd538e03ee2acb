//! IP addresses and CIDR blocks as the apiserver reads them
//! (`k8s.io/utils/net` `ParseIPSloppy` / `ParseCIDRSloppy`, the parsers
//! behind the "legacy" IP fields such as NetworkPolicy `ipBlock`).
//!
//! "Sloppy" means IPv4 octets and the prefix length may carry leading
//! zeros (`010.0.0.0/08` reads as `10.0.0.0/8`), as Go's `net` package
//! allowed before 1.17; the block is always normalised to its network
//! address, so `10.1.2.3/8` is the block `10.0.0.0/8`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A parsed CIDR block: its network address and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// `ParseIPSloppy`: an IPv4 dotted quad (leading zeros allowed) or an IPv6
/// address.
pub fn parse_ip_sloppy(s: &str) -> Option<IpAddr> {
    if s.contains(':') {
        return s.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for o in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *o = part.parse::<u8>().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(IpAddr::V4(Ipv4Addr::from(octets)))
}

impl Cidr {
    /// `ParseCIDRSloppy`: `addr/len`, `len` decimal and within the
    /// family's width.
    pub fn parse_sloppy(s: &str) -> Option<Self> {
        let (addr, len) = s.split_once('/')?;
        let ip = parse_ip_sloppy(addr)?;
        if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = len.parse().ok()?;
        let width = match ip {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix > width {
            return None;
        }
        Some(Self {
            network: mask(ip, prefix),
            prefix,
        })
    }

    /// The block's network address (the address with host bits cleared).
    pub fn network(&self) -> IpAddr {
        self.network
    }

    /// The prefix length (`Mask.Size()`'s ones).
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in the block (`IPNet.Contains`); an address of
    /// the other family never does.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                mask(ip, self.prefix) == self.network
            }
            _ => false,
        }
    }

    /// Whether `other` is a strict subset of this block, as NetworkPolicy
    /// validation requires of each `except` entry.
    pub fn strictly_contains(&self, other: &Cidr) -> bool {
        self.contains(other.network) && self.prefix < other.prefix
    }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(prefix))
            };
            IpAddr::V4(Ipv4Addr::from(bits & m))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let m = if prefix == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(prefix))
            };
            IpAddr::V6(Ipv6Addr::from(bits & m))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sloppy_parsing_accepts_leading_zeros_and_host_bits() {
        let c = Cidr::parse_sloppy("010.001.2.3/08").unwrap();
        assert_eq!(c.network(), ip("10.0.0.0"));
        assert_eq!(c.prefix_len(), 8);
        assert_eq!(
            Cidr::parse_sloppy("fd00::1/64").unwrap().network(),
            ip("fd00::")
        );
    }

    #[test]
    fn rejects_what_go_rejects() {
        for bad in [
            "10.0.0.0",
            "10.0.0.0/33",
            "10.0.0/8",
            "256.0.0.0/8",
            "10.0.0.0/-1",
            "10.0.0.0/",
            "fd00::/129",
            "a.b.c.d/8",
            "10.0.0.0/8/8",
        ] {
            assert_eq!(Cidr::parse_sloppy(bad), None, "{bad}");
        }
    }

    #[test]
    fn containment_and_strict_subsets() {
        let c = Cidr::parse_sloppy("172.17.0.0/16").unwrap();
        assert!(c.contains(ip("172.17.1.5")));
        assert!(!c.contains(ip("172.18.0.1")));
        assert!(!c.contains(ip("::1")));
        let sub = Cidr::parse_sloppy("172.17.1.0/24").unwrap();
        assert!(c.strictly_contains(&sub));
        assert!(!c.strictly_contains(&c));
        assert!(!sub.strictly_contains(&c));
        assert!(
            Cidr::parse_sloppy("0.0.0.0/0")
                .unwrap()
                .contains(ip("8.8.8.8"))
        );
    }
}
