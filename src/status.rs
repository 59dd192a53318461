//! Entity statuses: enums where the records and the API hold one of a few fixed strings.
//!
//! Each is stored and shown as exactly the string it replaced (`"ACTIVE"`), in JSON and in
//! the bincode records alike, so records written by earlier releases decode unchanged and
//! responses read the same. A string outside the set does not decode: only these values
//! were ever written (every write went through the API's checks or was a constant).
//! Hand-written rather than derived: serde's derive encodes a unit variant in bincode as
//! its index, not its name, which would change every stored record.

use std::fmt;

/// An enum of fixed names (see the module comment).
pub trait Named: Sized + Copy + 'static {
    /// Every value, in the order the API lists them.
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;

    /// The value named exactly `text` (names are case-sensitive, as the API's are).
    fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == text)
    }

    /// The names, for "Must be one of: ..." messages.
    fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|v| v.as_str()).collect()
    }
}

macro_rules! named_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
        }

        impl Named for $name {
            const ALL: &'static [$name] = &[$($name::$variant,)*];
            fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = String::deserialize(d)?;
                <$name as Named>::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "'{text}' is not one of: {}",
                        <$name as Named>::names().join(", ")
                    ))
                })
            }
        }
    };
}

named_enum! {
    /// A user's status. Only `INACTIVE` locks a user's keys out (see `auth`).
    UserStatus {
        Enrolling = "ENROLLING",
        Invited = "INVITED",
        Active = "ACTIVE",
        Reset = "RESET",
        Inactive = "INACTIVE",
    }
}

named_enum! {
    /// An API key's status: an `INACTIVE` key is refused.
    ApiKeyStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
    }
}

named_enum! {
    /// A trusted certificate's status.
    CertificateStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
    }
}

named_enum! {
    /// An identity provider's status.
    IdentityProviderStatus {
        Active = "ACTIVE",
        Suspended = "SUSPENDED",
    }
}

named_enum! {
    /// An account's status. iamd makes accounts `ACTIVE`; the others are the API's.
    AccountStatus {
        Enrolling = "ENROLLING",
        Active = "ACTIVE",
        Restricted = "RESTRICTED",
        Suspended = "SUSPENDED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    /// Every value encodes as its name did as a `String`, in bincode and JSON, and back.
    fn round_trips<T: Named + Serialize + DeserializeOwned + PartialEq + fmt::Debug>() {
        for &v in T::ALL {
            let text = v.as_str().to_string();
            let bytes = bincode::serialize(&v).unwrap();
            assert_eq!(bytes, bincode::serialize(&text).unwrap(), "{text}");
            assert_eq!(bincode::deserialize::<T>(&bytes).unwrap(), v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(text));
            assert_eq!(serde_json::from_value::<T>(text.clone().into()).unwrap(), v);
            assert_eq!(T::parse(&text), Some(v));
        }
        assert_eq!(T::parse("active"), None, "names are case-sensitive");
        let stray = bincode::serialize("SOMETHING").unwrap();
        assert!(bincode::deserialize::<T>(&stray).is_err());
        assert!(serde_json::from_str::<T>("\"\"").is_err());
    }

    #[test]
    fn statuses_round_trip_as_the_strings_they_replaced() {
        round_trips::<UserStatus>();
        round_trips::<ApiKeyStatus>();
        round_trips::<CertificateStatus>();
        round_trips::<IdentityProviderStatus>();
        round_trips::<AccountStatus>();
        assert_eq!(
            UserStatus::names(),
            ["ENROLLING", "INVITED", "ACTIVE", "RESET", "INACTIVE"]
        );
    }
}
