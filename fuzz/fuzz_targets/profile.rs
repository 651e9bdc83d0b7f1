//! Any text as a TOML profile given with `--profile`. `Profile::parse`
//! must answer with a profile or an error naming the file; a panic (such
//! as slicing the text at a byte that is not a character boundary while
//! locating an error) is a bug. A profile it accepts is used: every leaf it
//! names is looked up by name.

#![no_main]

use std::path::Path;

use certgen::profile::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match Profile::parse(text, Path::new("p.toml")) {
        Ok(profile) => {
            for leaf in &profile.leaves {
                profile
                    .leaf(&leaf.name)
                    .expect("a leaf is found by its name");
            }
        }
        Err(err) => {
            let message = format!("{err:#}");
            assert!(message.starts_with("p.toml:"), "unlocated error: {message}");
        }
    }
});
