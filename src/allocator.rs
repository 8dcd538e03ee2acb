//! The allocator of the `kdrill` binary and its benchmarks: mimalloc,
//! called the way the platform's own `malloc` is called for Rust's usual
//! alignments.
//!
//! mimalloc rather than glibc's malloc: the simulated cluster holds its
//! objects as many small strings and maps, where glibc spends a 32-byte
//! chunk on a 4-byte key and mimalloc 8 bytes (README, Performance).
//!
//! The `mimalloc` crate's own `GlobalAlloc` passes every request through
//! `mi_malloc_aligned`, which checks the alignment and looks for a block
//! that happens to be aligned before it allocates. Every mimalloc block
//! is aligned to a machine word, so a request that asks no more than that
//! (nearly all of them: strings, vectors, maps, `Arc`s) goes straight to
//! `mi_malloc`, as Rust's `System` allocator goes straight to `malloc`.
//! The simulator allocates about 1,600 times per pod it starts.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

/// The alignment every mimalloc block has.
const WORD: usize = std::mem::size_of::<usize>();

/// mimalloc, with word-aligned requests sent to its plain entry points.
pub struct Allocator;

// SAFETY: each method hands the request to mimalloc, whose blocks are all
// aligned to at least a word (so `mi_malloc` and `mi_realloc` satisfy any
// layout aligned to no more) and which takes back, through `mi_free` and
// `mi_realloc*`, any block either family of its entry points returned.
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc's allocation functions accept any size.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, so from mimalloc.
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout`'s alignment,
        // which the new block keeps.
        unsafe {
            if layout.align() <= WORD {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_the_alignment_asked_and_keep_their_bytes_through_realloc() {
        let a = Allocator;
        for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1, 3, 8, 15, 16, 24, 100, 1000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size} align {align}");
                    for i in 0..size {
                        *p.add(i) = (i % 251) as u8;
                    }
                    let grown = a.realloc(p, layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "realloc {size} {align}");
                    for i in 0..size {
                        assert_eq!(*grown.add(i), (i % 251) as u8);
                    }
                    a.dealloc(grown, Layout::from_size_align(size * 3, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
