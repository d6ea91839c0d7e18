//! Reader of the vmodl data-object dumps `vim-cmd` prints:
//!
//! ```text
//! (vim.vm.GuestInfo) {
//!    toolsStatus = "toolsOk",
//!    net = (vim.vm.GuestInfo.NicInfo) [ (vim.vm.GuestInfo.NicInfo) { ... } ],
//!    toolsUpdateStatus = (vim.vm.GuestInfo.ToolsUpdateStatus) null,
//!    searchDomain = <unset>,
//!    vm = 'vim.VirtualMachine:1',
//! }
//! ```
//!
//! Lines before the first `(` (e.g. `Guest information:`) are skipped. An
//! unbalanced dump (a truncated output) is an error naming the line.

use super::ParseError;

/// A value of a vmodl dump.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// `(type) { name = value, ... }`
    Obj(String, Vec<(String, V)>),
    /// `(type) [ value, ... ]`
    Arr(Vec<V>),
    /// `"text"`
    Str(String),
    /// `'vim.VirtualMachine:1'`
    Ref(String),
    /// `<unset>` or `(type) null`
    Unset,
    /// Numbers, `true`, `false`, bare words.
    Atom(String),
}

impl V {
    /// Field `name` of an object.
    pub fn get(&self, name: &str) -> Option<&V> {
        match self {
            V::Obj(_, f) => f.iter().find(|(k, _)| k == name).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Follows a dotted path of field names.
    pub fn path(&self, path: &str) -> Option<&V> {
        path.split('.').try_fold(self, |v, k| v.get(k))
    }

    /// Text of a string or atom.
    pub fn text(&self) -> Option<&str> {
        match self {
            V::Str(s) | V::Atom(s) | V::Ref(s) => Some(s),
            _ => None,
        }
    }

    /// Text at a dotted path, if set.
    pub fn text_at(&self, path: &str) -> Option<&str> {
        self.path(path).and_then(V::text)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Type(String),
    Open(char),
    Close(char),
    Comma,
    Eq,
    Str(String),
    Ref(String),
    Unset,
    Word(String),
}

struct Lexer<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: usize,
    command: &'a str,
}

impl<'a> Lexer<'a> {
    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.command, self.line, msg)
    }

    fn next(&mut self) -> Result<Option<(Tok, usize)>, ParseError> {
        while let Some(&c) = self.chars.peek() {
            if c == '\n' {
                self.line += 1;
                self.chars.next();
            } else if c.is_whitespace() {
                self.chars.next();
            } else {
                break;
            }
        }
        let line = self.line;
        let Some(c) = self.chars.next() else { return Ok(None) };
        let tok = match c {
            '{' | '[' => Tok::Open(c),
            '}' | ']' => Tok::Close(c),
            ',' => Tok::Comma,
            '=' => Tok::Eq,
            '(' => {
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        Some(')') => break,
                        Some('\n') | None => {
                            return Err(self.err("unterminated `(type)` (output truncated?)"))
                        }
                        Some(ch) => s.push(ch),
                    }
                }
                Tok::Type(s)
            }
            '"' => {
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        Some('"') => break,
                        Some('\\') => match self.chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(ch) => s.push(ch),
                            None => return Err(self.err("unterminated string (output truncated?)")),
                        },
                        Some('\n') => {
                            self.line += 1;
                            s.push('\n');
                        }
                        Some(ch) => s.push(ch),
                        None => return Err(self.err("unterminated string (output truncated?)")),
                    }
                }
                Tok::Str(s)
            }
            '\'' => {
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        Some('\'') => break,
                        Some('\n') | None => {
                            return Err(self.err("unterminated reference (output truncated?)"))
                        }
                        Some(ch) => s.push(ch),
                    }
                }
                Tok::Ref(s)
            }
            '<' => {
                let mut s = String::new();
                loop {
                    match self.chars.next() {
                        Some('>') => break,
                        Some('\n') | None => return Err(self.err("unterminated `<...>` (output truncated?)")),
                        Some(ch) => s.push(ch),
                    }
                }
                if s == "unset" {
                    Tok::Unset
                } else {
                    Tok::Word(format!("<{s}>"))
                }
            }
            _ => {
                let mut s = String::from(c);
                while let Some(&ch) = self.chars.peek() {
                    if ch.is_whitespace() || ",={}[]()\"'".contains(ch) {
                        break;
                    }
                    s.push(ch);
                    self.chars.next();
                }
                Tok::Word(s)
            }
        };
        Ok(Some((tok, line)))
    }
}

struct Parser<'a> {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    command: &'a str,
    last_line: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }
    fn line(&self) -> usize {
        self.toks.get(self.pos).map(|(_, l)| *l).unwrap_or(self.last_line)
    }
    fn bump(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|(t, _)| t.clone());
        self.pos += 1;
        t
    }
    fn err(&self, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.command, self.line(), msg)
    }

    fn value(&mut self, depth: usize) -> Result<V, ParseError> {
        if depth > 64 {
            return Err(self.err("nesting deeper than 64 levels"));
        }
        let ty = if let Some(Tok::Type(t)) = self.peek() {
            let t = t.clone();
            self.pos += 1;
            Some(t)
        } else {
            None
        };
        match self.bump() {
            Some(Tok::Open('{')) => {
                let mut fields = Vec::new();
                loop {
                    match self.peek() {
                        Some(Tok::Close('}')) => {
                            self.pos += 1;
                            break;
                        }
                        Some(Tok::Comma) => {
                            self.pos += 1;
                        }
                        Some(Tok::Word(name)) => {
                            let name = name.clone();
                            self.pos += 1;
                            if self.bump() != Some(Tok::Eq) {
                                self.pos -= 1;
                                return Err(self.err(format!("expected `=` after `{name}`")));
                            }
                            let v = self.value(depth + 1)?;
                            fields.push((name, v));
                        }
                        None => return Err(self.err("object not closed with `}` (output truncated?)")),
                        Some(t) => return Err(self.err(format!("unexpected {t:?} in an object"))),
                    }
                }
                Ok(V::Obj(ty.unwrap_or_default(), fields))
            }
            Some(Tok::Open('[')) => {
                let mut items = Vec::new();
                loop {
                    match self.peek() {
                        Some(Tok::Close(']')) => {
                            self.pos += 1;
                            break;
                        }
                        Some(Tok::Comma) => {
                            self.pos += 1;
                        }
                        None => return Err(self.err("array not closed with `]` (output truncated?)")),
                        Some(_) => items.push(self.value(depth + 1)?),
                    }
                }
                Ok(V::Arr(items))
            }
            Some(Tok::Str(s)) => Ok(V::Str(s)),
            Some(Tok::Ref(s)) => Ok(V::Ref(s)),
            Some(Tok::Unset) => Ok(V::Unset),
            Some(Tok::Word(w)) if w == "null" => Ok(V::Unset),
            Some(Tok::Word(w)) => Ok(V::Atom(w)),
            None => Err(self.err("value missing (output truncated?)")),
            Some(t) => {
                self.pos -= 1;
                Err(self.err(format!("unexpected {t:?}")))
            }
        }
    }
}

/// Parses the first vmodl value in `text` (lines before it are skipped).
/// `Ok(None)` when the output holds no dump at all.
pub fn parse(command: &str, text: &str) -> Result<Option<V>, ParseError> {
    // Skip the preamble: everything before the first line starting with `(`.
    let mut start_line = 0;
    let mut offset = 0;
    let mut found = false;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if l.trim_start().starts_with('(') {
            start_line = i;
            offset += l.len() - l.trim_start().len();
            found = true;
            break;
        }
        offset += l.len();
    }
    if !found {
        return Ok(None);
    }
    let body = &text[offset..];
    let mut lx = Lexer { chars: body.chars().peekable(), line: start_line + 1, command };
    let mut toks = Vec::new();
    while let Some(t) = lx.next()? {
        toks.push(t);
        if toks.len() > 2_000_000 {
            return Err(ParseError::new(command, lx.line, "output too large"));
        }
    }
    let last_line = toks.last().map(|t| t.1).unwrap_or(lx.line);
    let mut p = Parser { toks, pos: 0, command, last_line };
    let v = p.value(0)?;
    Ok(Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_dump() {
        let t = "Guest information:\n\n(vim.vm.GuestInfo) {\n   toolsStatus = \"toolsOk\",\n   u = (x.Y) null,\n   s = <unset>,\n   net = (x.N) [\n      (x.N) {\n         connected = true,\n      }\n   ],\n   vm = 'vim.VirtualMachine:1'\n}\n";
        let v = parse("c", t).unwrap().unwrap();
        assert_eq!(v.text_at("toolsStatus"), Some("toolsOk"));
        assert_eq!(v.get("u"), Some(&V::Unset));
        assert_eq!(v.text_at("vm"), Some("vim.VirtualMachine:1"));
        match v.get("net") {
            Some(V::Arr(a)) => assert_eq!(a[0].text_at("connected"), Some("true")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_dump_is_an_error_with_line() {
        let t = "(a.B) {\n   x = (c.D) {\n      y = \"z\",\n";
        let e = parse("vim-cmd vmsvc/get.guest 1", t).unwrap_err();
        assert!(e.message.contains("truncated"), "{e}");
        assert_eq!(e.command, "vim-cmd vmsvc/get.guest 1");
    }
}
