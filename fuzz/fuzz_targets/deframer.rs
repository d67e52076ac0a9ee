//! Arbitrary bytes off a serial line, in arbitrary chunks: the deframer
//! must stay bounded and never panic, and what it yields must fit a frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tandem::wire::frame::FRAME_MAX;
use tandem::wire::serial::{Deframed, Deframer, BUFFER_MAX};

fuzz_target!(|data: &[u8]| {
    let mut d = Deframer::new();
    // The first byte chooses the chunk size, as reads of any size happen.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for piece in data.chunks(chunk) {
        d.push(piece);
        while let Some(item) = d.next_item() {
            match item {
                Deframed::Frame(f) => assert!(f.len() <= FRAME_MAX + BUFFER_MAX),
                Deframed::Noise(n) => assert!(n > 0),
                Deframed::Heartbeat(src, _) => assert!(!src.is_empty()),
            }
        }
    }
});
