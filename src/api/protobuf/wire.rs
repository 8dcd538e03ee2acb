//! Protocol-buffers wire-format reader over a byte slice. Errors carry the messages gogo-protobuf's
//! generated `Unmarshal` code returns (k8s.io/api `*/generated.pb.go`), which the apiserver
//! puts into its 400 response.

pub const WIRE_VARINT: u8 = 0;
pub const WIRE_FIXED64: u8 = 1;
pub const WIRE_LEN: u8 = 2;
pub const WIRE_START_GROUP: u8 = 3;
pub const WIRE_END_GROUP: u8 = 4;
pub const WIRE_FIXED32: u8 = 5;

pub const UNEXPECTED_EOF: &str = "unexpected EOF";

pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    pub fn varint(&mut self) -> Result<u64, String> {
        let mut value: u64 = 0;
        let mut shift = 0u32;
        loop {
            if shift >= 64 {
                return Err("proto: integer overflow".to_string());
            }
            let byte = *self.buf.get(self.pos).ok_or(UNEXPECTED_EOF)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }

    /// A field key: (field number, wire type).
    pub fn key(&mut self) -> Result<(u64, u8), String> {
        let key = self.varint()?;
        Ok((key >> 3, (key & 7) as u8))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).ok_or(UNEXPECTED_EOF)?;
        let bytes = self.buf.get(self.pos..end).ok_or(UNEXPECTED_EOF)?;
        self.pos = end;
        Ok(bytes)
    }

    /// A length-delimited payload.
    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.varint()?;
        if (len as i64) < 0 {
            return Err("proto: negative length found during unmarshaling".to_string());
        }
        let len = usize::try_from(len).map_err(|_| UNEXPECTED_EOF.to_string())?;
        self.take(len)
    }

    pub fn fixed64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// Skips one field's value of the given wire type (unknown fields are ignored, as gogo does).
    pub fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            WIRE_VARINT => self.varint().map(|_| ()),
            WIRE_FIXED64 => self.take(8).map(|_| ()),
            WIRE_LEN => self.bytes().map(|_| ()),
            WIRE_FIXED32 => self.take(4).map(|_| ()),
            WIRE_START_GROUP => {
                let mut depth = 1usize;
                while depth > 0 {
                    match self.key()?.1 {
                        WIRE_START_GROUP => depth += 1,
                        WIRE_END_GROUP => depth -= 1,
                        inner => self.skip(inner)?,
                    }
                }
                Ok(())
            }
            WIRE_END_GROUP => Err("proto: unexpected end of group".to_string()),
            other => Err(format!("proto: illegal wireType {other}")),
        }
    }
}
