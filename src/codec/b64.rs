//! Standard base64, as Go's `encoding/json` writes a `[]byte` (TiDB's BIT defaults) and as MySQL
//! prints JSON opaque values. Decoding accepts missing padding.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decode standard base64 with or without padding; None when malformed.
pub fn decode(s: &str) -> Option<Vec<u8>> {
    LENIENT.decode(s).ok()
}

/// Encode as standard base64 with padding.
pub fn encode(b: &[u8]) -> String {
    STANDARD.encode(b)
}
