//! RocksDB's built-in merge operators, applied when the OPTIONS file names one for a column family
//! (anything else stays unresolved in the salvage output). Semantics as in RocksDB 11.8's
//! utilities/merge_operators: stringappend (existing, then each operand, joined by the delimiter,
//! default ","), uint64add (fixed64 little-endian sum; a missing or malformed value counts as 0),
//! max (bytewise largest), put / put_v1 (the newest operand).

/// A merge operator rockrescue can apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeOperator {
    StringAppend { delimiter: Vec<u8> },
    UInt64Add,
    Max,
    Put,
}

impl MergeOperator {
    /// From an OPTIONS `merge_operator=` value: a name (`StringAppendOperator`, `stringappend`,
    /// ...) or an object (`{id=StringAppendOperator;delimiter=,}`). None for `nullptr` and for
    /// operators rockrescue does not implement.
    pub fn from_options(v: &str) -> Option<MergeOperator> {
        let v = v.trim();
        let (id, delimiter) =
            if let Some(body) = v.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
                let mut id = "";
                let mut delim = None;
                for part in body.split(';') {
                    if let Some(x) = part.strip_prefix("id=") {
                        id = x;
                    } else if let Some(x) = part.strip_prefix("delimiter=") {
                        delim = Some(x.as_bytes().to_vec());
                    }
                }
                (id, delim)
            } else {
                (v, None)
            };
        Some(match id {
            "StringAppendOperator"
            | "stringappend"
            | "StringAppendTESTOperator"
            | "stringappendtest" => MergeOperator::StringAppend {
                delimiter: delimiter.unwrap_or_else(|| b",".to_vec()),
            },
            "UInt64AddOperator" | "uint64add" => MergeOperator::UInt64Add,
            "MaxOperator" | "max" => MergeOperator::Max,
            "PutOperator" | "put" | "put_v1" => MergeOperator::Put,
            _ => return None,
        })
    }

    /// Apply `operands` (oldest first) to `base`.
    pub fn apply(&self, base: Option<&[u8]>, operands: &[&[u8]]) -> Vec<u8> {
        match self {
            MergeOperator::StringAppend { delimiter } => {
                let mut out: Option<Vec<u8>> = base.map(<[u8]>::to_vec);
                for op in operands {
                    match &mut out {
                        Some(v) => {
                            v.extend_from_slice(delimiter);
                            v.extend_from_slice(op);
                        }
                        None => out = Some(op.to_vec()),
                    }
                }
                out.unwrap_or_default()
            }
            MergeOperator::UInt64Add => {
                let n = |v: &[u8]| -> u64 {
                    if v.len() == 8 {
                        u64::from_le_bytes(v.try_into().unwrap_or([0; 8]))
                    } else {
                        0
                    }
                };
                let mut sum = base.map_or(0, n);
                for op in operands {
                    sum = sum.wrapping_add(n(op));
                }
                sum.to_le_bytes().to_vec()
            }
            MergeOperator::Max => {
                let mut best: &[u8] = base.unwrap_or(&[]);
                for op in operands {
                    if *op > best {
                        best = op;
                    }
                }
                best.to_vec()
            }
            MergeOperator::Put => operands
                .last()
                .map(|o| o.to_vec())
                .or_else(|| base.map(<[u8]>::to_vec))
                .unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_operators() {
        let sa = MergeOperator::from_options("StringAppendOperator").unwrap();
        assert_eq!(sa.apply(Some(b"a"), &[b"b", b"c"]), b"a,b,c");
        assert_eq!(sa.apply(None, &[b"b", b"c"]), b"b,c");
        let sa2 = MergeOperator::from_options("{id=StringAppendOperator;delimiter=|}").unwrap();
        assert_eq!(sa2.apply(Some(b"a"), &[b"b"]), b"a|b");
        let add = MergeOperator::from_options("uint64add").unwrap();
        assert_eq!(
            add.apply(Some(&5u64.to_le_bytes()), &[&7u64.to_le_bytes(), b"bad"]),
            12u64.to_le_bytes()
        );
        assert_eq!(
            MergeOperator::from_options("max")
                .unwrap()
                .apply(Some(b"b"), &[b"a", b"c"]),
            b"c"
        );
        assert_eq!(
            MergeOperator::from_options("put")
                .unwrap()
                .apply(Some(b"b"), &[b"x", b"y"]),
            b"y"
        );
        assert_eq!(MergeOperator::from_options("nullptr"), None);
        assert_eq!(MergeOperator::from_options("concat"), None);
    }
}
