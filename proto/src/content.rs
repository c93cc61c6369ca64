//! Choosing between the two encodings Mesos speaks.

use crate::error::Result;

/// The body encoding of a call or an event stream.
///
/// Mesos decides a request's encoding by its `Content-Type` header and the
/// encoding of the events it streams back by the `Accept` header. JSON is
/// easier to read in logs and with curl; protobuf is smaller and faster.
/// Real users meet both, so everything here works with either.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ContentType {
    /// `application/json`, in the Mesos mapping (see [`crate::json`]).
    #[default]
    Json,
    /// `application/x-protobuf`: the binary protobuf encoding.
    Protobuf,
}

impl ContentType {
    /// The media type string, as sent in `Content-Type` and `Accept`.
    pub fn mime(self) -> &'static str {
        match self {
            ContentType::Json => "application/json",
            ContentType::Protobuf => "application/x-protobuf",
        }
    }

    /// Recognises a `Content-Type` value the way Mesos does: an exact,
    /// case-sensitive match. `application/json; charset=utf-8` is *not*
    /// recognised (Mesos answers 415 to it).
    pub fn from_mime(value: &str) -> Option<ContentType> {
        match value {
            "application/json" => Some(ContentType::Json),
            "application/x-protobuf" => Some(ContentType::Protobuf),
            _ => None,
        }
    }

    /// Encodes a message in this encoding.
    pub fn encode<T: prost::Message + prost::Name>(self, message: &T) -> Vec<u8> {
        match self {
            ContentType::Json => crate::json::to_vec(message),
            ContentType::Protobuf => message.encode_to_vec(),
        }
    }

    /// Decodes a message in this encoding, checking `required` fields.
    pub fn decode<T: prost::Message + prost::Name + Default + 'static>(
        self,
        bytes: &[u8],
    ) -> Result<T> {
        match self {
            ContentType::Json => crate::json::from_slice(bytes),
            ContentType::Protobuf => crate::protobuf::decode_one_pass(bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_matching_is_exact_as_in_mesos() {
        assert_eq!(
            ContentType::from_mime("application/json"),
            Some(ContentType::Json)
        );
        assert_eq!(
            ContentType::from_mime("application/x-protobuf"),
            Some(ContentType::Protobuf)
        );
        assert_eq!(
            ContentType::from_mime("application/json; charset=utf-8"),
            None
        );
        assert_eq!(ContentType::from_mime("Application/JSON"), None);
        for ct in [ContentType::Json, ContentType::Protobuf] {
            assert_eq!(ContentType::from_mime(ct.mime()), Some(ct));
        }
    }
}
