//! SDK clients built the first time they are used.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};

/// A client built on first use and kept. The first client of each SDK service crate
/// parses that service's endpoint partition table (JSON and regular expressions, about
/// 0.1 ms in `make sizes`' release builds), so a function that built every client it
/// might call paid for all of them in every cold start: the API builds four that most
/// requests never touch. Clones share the one client.
#[derive(Clone)]
pub struct Lazy<C> {
    client: Arc<OnceLock<C>>,
    build: Arc<dyn Fn() -> C + Send + Sync>,
}

impl<C: 'static> Lazy<C> {
    /// A client that `build` makes when it is first used.
    pub fn new(build: impl Fn() -> C + Send + Sync + 'static) -> Self {
        Self {
            client: Arc::new(OnceLock::new()),
            build: Arc::new(build),
        }
    }

    /// A client that `build(config)` makes when it is first used, e.g.
    /// `Lazy::with(&sdk_config, aws_sdk_s3::Client::new)`.
    pub fn with<T: Send + Sync + 'static>(config: &T, build: fn(&T) -> C) -> Self
    where
        T: Clone,
    {
        let config = config.clone();
        Self::new(move || build(&config))
    }

    /// Whether the client has been built yet.
    pub fn is_built(&self) -> bool {
        self.client.get().is_some()
    }
}

/// A client that is already built (tests, the local runner).
impl<C: Clone + Send + Sync + 'static> From<C> for Lazy<C> {
    fn from(client: C) -> Self {
        let built = OnceLock::new();
        let _ = built.set(client.clone());
        Self {
            client: Arc::new(built),
            build: Arc::new(move || client.clone()),
        }
    }
}

impl<C> Deref for Lazy<C> {
    type Target = C;

    fn deref(&self) -> &C {
        self.client.get_or_init(|| (self.build)())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn builds_once_at_first_use_and_clones_share_it() {
        let built = Arc::new(AtomicUsize::new(0));
        let counter = built.clone();
        let lazy = Lazy::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            String::from("client")
        });
        let clone = lazy.clone();
        assert_eq!(
            built.load(Ordering::SeqCst),
            0,
            "nothing is built before use"
        );
        assert!(!lazy.is_built());
        assert_eq!(lazy.len(), 6);
        assert_eq!(*clone, "client");
        assert_eq!(built.load(Ordering::SeqCst), 1, "built once for both");
        assert!(clone.is_built());
    }

    #[test]
    fn a_built_client_is_used_as_is() {
        let lazy = Lazy::from(vec![1, 2, 3]);
        assert!(lazy.is_built());
        assert_eq!(lazy.as_slice(), &[1, 2, 3]);
    }
}
