//! Running independent jobs on a few threads while keeping their results in
//! the order of their inputs, so that what certgen writes (serials, file
//! order, reports) never depends on which thread finished first.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The number of threads for CPU-bound work: one per core.
pub fn cores() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `job` to every item on at most `workers` threads and returns the
/// results in the order of `items`.
///
/// Each thread takes the next item not yet taken, so one slow job (an RSA
/// key whose prime search runs long) holds up only its own thread, never a
/// whole round. With one item or one worker everything runs on the calling
/// thread. A job that panics takes the caller down with it, as it would
/// without threads.
pub fn map_ordered<T, R, F>(items: &[T], workers: usize, job: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let workers = workers.min(items.len());
    if workers <= 1 {
        return items.iter().map(job).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            return mine;
                        };
                        mine.push((index, job(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_unstable_by_key(|(index, _)| *index);
    done.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Mutex;

    #[test]
    fn results_keep_the_order_of_the_inputs() {
        let items: Vec<u64> = (0..500).collect();
        // Early items sleep longest, so they finish last.
        let results = map_ordered(&items, 4, |&n| {
            if n < 8 {
                thread::sleep(std::time::Duration::from_millis(20 - 2 * n));
            }
            n * n
        });
        let expected: Vec<u64> = items.iter().map(|n| n * n).collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn every_item_runs_exactly_once_on_at_most_the_workers_asked() {
        let items: Vec<usize> = (0..200).collect();
        let seen = Mutex::new(Vec::new());
        let threads = Mutex::new(HashSet::new());
        map_ordered(&items, 3, |&n| {
            seen.lock().unwrap().push(n);
            threads.lock().unwrap().insert(thread::current().id());
        });
        let mut seen = seen.into_inner().unwrap();
        seen.sort_unstable();
        assert_eq!(seen, items);
        let threads = threads.into_inner().unwrap();
        assert!(
            !threads.is_empty() && threads.len() <= 3,
            "{} threads",
            threads.len()
        );
    }

    #[test]
    fn one_worker_or_one_item_stays_on_the_calling_thread() {
        let caller = thread::current().id();
        let on_caller = map_ordered(&[1, 2, 3], 1, |_| thread::current().id() == caller);
        assert_eq!(on_caller, [true, true, true]);
        let on_caller = map_ordered(&[1], 8, |_| thread::current().id() == caller);
        assert_eq!(on_caller, [true]);
        let empty: Vec<u8> = map_ordered(&[] as &[u8], 8, |&b| b);
        assert!(empty.is_empty());
    }
}
