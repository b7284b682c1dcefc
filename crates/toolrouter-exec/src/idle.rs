//! Ending connections nothing uses: streams that note when bytes last moved through them, and a
//! race of the copying against a watchdog, so the egress proxy closes a tunnel neither side has
//! used for a while (sandboxed code cannot hold the proxy's connections open forever).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// When bytes last moved through any stream watched with it.
#[derive(Debug, Clone)]
pub(crate) struct Activity {
    since: Instant,
    /// Milliseconds after `since`.
    last: Arc<AtomicU64>,
}

impl Activity {
    pub(crate) fn new() -> Activity {
        Activity {
            since: Instant::now(),
            last: Arc::new(AtomicU64::new(0)),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn touch(&self) {
        self.last.store(self.now(), Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        Duration::from_millis(self.now().saturating_sub(self.last.load(Ordering::Relaxed)))
    }

    /// Runs `work` until it ends or nothing moved for `idle`; then `TimedOut`.
    pub(crate) async fn until_idle<F>(&self, idle: Duration, work: F) -> io::Result<()>
    where
        F: Future<Output = io::Result<()>>,
    {
        let check = (idle / 4).max(Duration::from_millis(10));
        let watchdog = async {
            loop {
                tokio::time::sleep(check).await;
                if self.idle_for() >= idle {
                    return;
                }
            }
        };
        tokio::select! {
            r = work => r,
            () = watchdog => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no bytes moved for {} s", idle.as_secs()),
            )),
        }
    }
}

/// A stream whose reads and writes of at least one byte touch an [`Activity`].
#[derive(Debug)]
pub(crate) struct Watched<S> {
    inner: S,
    activity: Activity,
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, activity: &Activity) -> Watched<S> {
        Watched {
            inner,
            activity: activity.clone(),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn work_that_keeps_moving_bytes_is_not_cut_and_silence_is() {
        let activity = Activity::new();
        let (a, b) = tokio::io::duplex(64);
        let (mut a, mut b) = (Watched::new(a, &activity), Watched::new(b, &activity));
        // Ten writes 30 ms apart: 300 ms in all, never 100 ms without a byte.
        let busy = activity
            .until_idle(Duration::from_millis(100), async {
                for _ in 0..10 {
                    a.write_all(b"x").await?;
                    let mut one = [0u8; 1];
                    b.read_exact(&mut one).await?;
                    tokio::time::sleep(Duration::from_millis(30)).await;
                }
                Ok(())
            })
            .await;
        assert!(busy.is_ok(), "{busy:?}");
        // Waiting for a byte that never comes.
        let silent = activity
            .until_idle(Duration::from_millis(100), async {
                let mut one = [0u8; 1];
                b.read_exact(&mut one).await.map(drop)
            })
            .await;
        assert_eq!(silent.map_err(|e| e.kind()), Err(io::ErrorKind::TimedOut));
    }
}
