//! Quoting for text that certgen prints for a person to paste into a shell.

/// A word for a POSIX shell: as it is when it holds no character a shell
/// treats specially, else in single quotes (a quote inside becomes `'\''`).
pub fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:=@%+,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("/srv/cert/ca.pem"), "/srv/cert/ca.pem");
        assert_eq!(shell_word("k8s/milvus.yaml"), "k8s/milvus.yaml");
        assert_eq!(shell_word("/my certs/ca.pem"), "'/my certs/ca.pem'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word("my file's.yaml"), r"'my file'\''s.yaml'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(
            shell_word("https://[::1]:19531/x"),
            "'https://[::1]:19531/x'"
        );
    }
}
