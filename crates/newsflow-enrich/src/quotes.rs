//! Quotations and their speakers (`shared/gold/GUIDELINES.md` §2).
//!
//! Segments are the text between `« »`, `“ ”` or straight `"` marks (the
//! outermost pair; a quote left open at a paragraph's end stops there and
//! goes on in the next paragraph when that opens with a mark). Names,
//! nicknames and titles of works between marks are not quotes.
//!
//! The speaker is found, in order, from an attribution after the quote in
//! the same sentence (`», a déclaré X`, `», a-t-il ajouté`, `,” said X`,
//! `” X told`), then from the clause before it (`X a déclaré : « … »`,
//! `X a salué « … »`, `selon X, « … »`), then from a neighbouring segment
//! of the same paragraph (`“…,” he said. “…”`) or the paragraph the quote
//! continues. Pronouns resolve to the last person named before the quote;
//! descriptions (`le sélectionneur belge`) to the person the text gave that
//! function; indefinite speakers (`un habitant`, `an economist`) and places
//! give `null`.

use newsflow_core::{Entity, EntityLabel, Quote};

use crate::words;

/// A quote segment in char offsets: `[start, end)` inside the marks, and
/// the marks' own positions.
#[derive(Debug, Clone)]
struct Segment {
    start: usize,
    end: usize,
    open: usize,
    /// Position of the closing mark, or the paragraph end when it was left open.
    close: usize,
    /// Closed by a mark (not by the end of the paragraph).
    closed: bool,
    /// The paragraph opens with this quote's mark and the previous segment
    /// was left open: it continues that quote.
    continues: bool,
}

fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{202f}'
}

/// Find the outermost quotation segments.
fn segments(chars: &[char]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut i = 0;
    let n = chars.len();
    // (opening mark, its position, depth of « »)
    let mut open: Option<(char, usize)> = None;
    let mut depth = 0usize;
    let mut left_open = false;
    let mut para_start = true;
    while i < n {
        let c = chars[i];
        if c == '\n' {
            if let Some((_, o)) = open.take() {
                push(&mut out, chars, o, i, false, false);
                left_open = true;
            } else if i + 1 < n && chars[i + 1] == '\n' {
                left_open = false;
            }
            depth = 0;
            para_start = true;
            i += 1;
            continue;
        }
        let starts_para = para_start && !is_space(c);
        if !is_space(c) {
            para_start = false;
        }
        // A quote left open goes on in a paragraph that does not reopen it
        // but closes it (`«Je tiens …¶¶Nous constatons …», a confié X`).
        if starts_para && left_open && open.is_none() && !matches!(c, '«' | '“' | '"') {
            let close = chars[i..]
                .iter()
                .position(|&x| matches!(x, '»' | '”' | '«' | '“' | '\n'))
                .map(|p| chars[i + p]);
            if matches!(close, Some('»' | '”')) {
                let mark = if close == Some('»') { '«' } else { '“' };
                open = Some((mark, i - 1));
                depth = 1;
                out.push(Segment {
                    start: usize::MAX,
                    end: 0,
                    open: i - 1,
                    close: 0,
                    closed: false,
                    continues: true,
                });
                left_open = false;
            }
        }
        match open {
            None => {
                let opens = match c {
                    '«' | '“' => true,
                    '"' => {
                        let prev = if i == 0 { ' ' } else { chars[i - 1] };
                        let next = chars.get(i + 1).copied().unwrap_or(' ');
                        (is_space(prev) || matches!(prev, '(' | '[' | '—' | '–' | ':'))
                            && !is_space(next)
                    }
                    _ => false,
                };
                if opens {
                    open = Some((c, i));
                    depth = 1;
                    if starts_para && left_open {
                        // Marked on the new segment below.
                        out.push(Segment {
                            start: usize::MAX,
                            end: 0,
                            open: i,
                            close: 0,
                            closed: false,
                            continues: true,
                        });
                    }
                    left_open = false;
                }
            }
            Some((m, o)) => {
                let closes = match (m, c) {
                    ('«', '«') => {
                        depth += 1;
                        false
                    }
                    ('«', '»') => {
                        depth -= 1;
                        depth == 0
                    }
                    ('“', '”') => true,
                    ('"', '"') => true,
                    _ => false,
                };
                if closes {
                    open = None;
                    push(&mut out, chars, o, i, true, false);
                }
            }
        }
        i += 1;
    }
    if let Some((_, o)) = open {
        push(&mut out, chars, o, n, false, false);
    }
    // Fold the continuation markers into the segment that follows them.
    let mut folded: Vec<Segment> = Vec::new();
    let mut pending = false;
    for s in out {
        if s.start == usize::MAX {
            pending = true;
            continue;
        }
        let mut s = s;
        s.continues = pending;
        pending = false;
        folded.push(s);
    }
    folded
}

fn push(
    out: &mut Vec<Segment>,
    chars: &[char],
    open: usize,
    close: usize,
    closed: bool,
    continues: bool,
) {
    let mut s = open + 1;
    let mut e = close;
    while s < e && is_space(chars[s]) {
        s += 1;
    }
    while e > s && is_space(chars[e - 1]) {
        e -= 1;
    }
    if s < e {
        out.push(Segment {
            start: s,
            end: e,
            open,
            close,
            closed,
            continues,
        });
    }
}

/// A word with its char offsets, lower-cased and apostrophes straight.
#[derive(Debug, Clone)]
struct Word {
    start: usize,
    end: usize,
    text: String,
    lower: String,
}

fn words_in(chars: &[char], from: usize, to: usize) -> Vec<Word> {
    let mut out = Vec::new();
    let mut i = from;
    while i < to {
        if chars[i].is_alphanumeric() {
            let s = i;
            while i < to
                && (chars[i].is_alphanumeric()
                    || (matches!(chars[i], '-' | '\'' | '’' | '.')
                        && i + 1 < to
                        && chars[i + 1].is_alphanumeric()))
            {
                i += 1;
            }
            let text: String = chars[s..i].iter().collect();
            let lower = text.replace('’', "'").to_lowercase();
            out.push(Word {
                start: s,
                end: i,
                text,
                lower,
            });
        } else {
            i += 1;
        }
    }
    out
}

/// Where the sentence containing `at` ends: a full stop, `!`, `?`, a line
/// break, or an opening quotation mark after a stop.
fn sentence_end(chars: &[char], at: usize) -> usize {
    let mut i = at;
    while i < chars.len() {
        match chars[i] {
            '\n' | '!' | '?' | '«' | '“' => return i,
            '.' if !is_abbreviation(chars, i) => return i,
            _ => {}
        }
        i += 1;
    }
    chars.len()
}

/// Where the sentence containing `at` starts.
fn sentence_start(chars: &[char], at: usize) -> usize {
    let mut i = at;
    while i > 0 {
        let c = chars[i - 1];
        if c == '\n' || c == '!' || c == '?' || (c == '.' && !is_abbreviation(chars, i - 1)) {
            return i;
        }
        i -= 1;
    }
    0
}

/// A dot after `M`, `Mme`, `Dr`, `U.S`, an initial: not a sentence end.
fn is_abbreviation(chars: &[char], dot: usize) -> bool {
    // `$1.8 billion`, `3.5 %`: a decimal point.
    if dot > 0
        && chars[dot - 1].is_ascii_digit()
        && chars.get(dot + 1).is_some_and(char::is_ascii_digit)
    {
        return true;
    }
    let mut s = dot;
    while s > 0 && chars[s - 1].is_alphabetic() {
        s -= 1;
    }
    let w: String = chars[s..dot].iter().collect::<String>().to_lowercase();
    if w.is_empty() {
        return false;
    }
    let single_cap = dot - s == 1 && chars[s].is_uppercase();
    // A quote ending with `.` before the closing mark is a full stop.
    single_cap
        || words::ABBREVIATIONS.contains(&w.as_str())
        || matches!(
            w.as_str(),
            "jan" | "feb" | "aug" | "sept" | "oct" | "nov" | "dec"
        )
}

const PRONOUNS: &[&str] = &["il", "elle", "lui", "he", "she", "celui-ci", "celle-ci"];
const INDEFINITE: &[&str] = &[
    "un",
    "une",
    "des",
    "plusieurs",
    "certains",
    "certaines",
    "an",
    "one",
    "some",
    "several",
    "many",
    "other",
    "others",
    "another",
    "residents",
    "habitants",
    "analysts",
    "analystes",
    "observateurs",
    "witnesses",
    "témoins",
    "officials",
    "sources",
    "source",
    "diplomats",
    "critics",
    "supporters",
    "protesters",
    "manifestants",
];
/// Words that make a quote a name or a title rather than speech when they
/// come right before it.
const NAMING: &[&str] = &[
    "dit",
    "dite",
    "surnommé",
    "surnommée",
    "alias",
    "baptisé",
    "baptisée",
    "intitulé",
    "intitulée",
    "nommé",
    "film",
    "livre",
    "roman",
    "album",
    "chanson",
    "titre",
    "ouvrage",
    "essai",
    "recueil",
    "série",
    "documentaire",
    "spectacle",
    "pièce",
    "dubbed",
    "nicknamed",
    "known",
    "titled",
    "entitled",
    "novel",
    "book",
    "song",
    "memoir",
    "documentary",
    "signifie",
    "means",
    "meaning",
    "opération",
    "operation",
    "thème",
    "theme",
    "slogan",
    "hashtag",
];
/// Words after which an entity is a complement, not a subject.
const PREPOSITIONS: &[&str] = &[
    "de", "du", "des", "d'", "à", "au", "aux", "sur", "pour", "par", "avec", "dans", "chez",
    "contre", "entre", "devant", "après", "avant", "vers", "auprès", "envers", "of", "in", "at",
    "to", "from", "for", "by", "with", "on", "against", "via", "into", "about", "than", "que",
    "qu'", "that", "if", "whether", "sans", "without", "en",
];
/// Words that end a subject noun phrase after the verb: an adjunct starts.
const BREAKS: &[&str] = &[
    "lors", "en", "dans", "devant", "depuis", "après", "avant", "à", "au", "aux", "sur", "pendant",
    "avec", "pour", "face", "tout", "in", "at", "during", "after", "before", "on", "to", "with",
    "from", "while", "as", "when", "who", "qui", "dont", "où", "where",
];
/// Nouns for texts, crowds and unnamed groups: their words have no speaker.
const NULL_NOUNS: &[&str] = &[
    "texte",
    "text",
    "charte",
    "charter",
    "décret",
    "decree",
    "loi",
    "law",
    "résolution",
    "resolution",
    "accord",
    "agreement",
    "traité",
    "treaty",
    "constitution",
    "foule",
    "crowd",
    "banderole",
    "banderoles",
    "banner",
    "banners",
    "pancarte",
    "pancartes",
    "slogan",
    "manifestants",
    "protesters",
    "supporters",
    "partisans",
    "habitants",
    "residents",
    "gouvernement",
    "government",
    "autorités",
    "authorities",
    "junte",
    "junta",
    "police",
    "porte-parole",
    "spokesman",
    "spokeswoman",
    "spokesperson",
    "source",
    "sources",
];
/// Nouns that stand for an organisation named earlier.
const ORG_NOUNS: &[&str] = &[
    "group",
    "groupe",
    "organisation",
    "organization",
    "institution",
    "agency",
    "agence",
    "ministère",
    "ministry",
    "company",
    "entreprise",
    "société",
    "firme",
    "firm",
    "bank",
    "banque",
    "party",
    "parti",
    "mouvement",
    "movement",
    "union",
    "coalition",
    "body",
    "fund",
    "fonds",
    "club",
    "fédération",
    "federation",
    "ong",
    "association",
    "alliance",
    "lender",
    "regulator",
    "bloc",
    "commission",
    "council",
    "conseil",
];
/// Nouns for a communiqué, whose words belong to the organisation that issued it.
const STATEMENT_NOUNS: &[&str] = &["communiqué", "statement", "déclaration", "release"];
const DETERMINERS: &[&str] = &[
    "le", "la", "les", "l'", "the", "son", "sa", "ses", "his", "her", "its", "their", "ce", "cet",
    "cette", "this", "that", "leur",
];
const ADJ_SKIP: &[&str] = &[
    "nouveau",
    "nouvel",
    "nouvelle",
    "ancien",
    "ancienne",
    "jeune",
    "vieux",
    "premier",
    "première",
    "new",
    "former",
    "young",
    "old",
    "veteran",
    "même",
    "grand",
    "grande",
];

/// French speech verbs (stems of present, imperfect and participle forms)
/// or English ones, after the document's language: French stems would
/// otherwise take English words (`discrepancies`, `reports`).
fn is_speech_verb(w: &str, english: bool) -> bool {
    const FR: &[&str] = &[
        "déclar",
        "dit",
        "dis",
        "affirm",
        "confi",
        "indiqu",
        "soulign",
        "ajout",
        "expliqu",
        "estim",
        "annonc",
        "assur",
        "rappel",
        "précis",
        "martel",
        "lanc",
        "insist",
        "réag",
        "répond",
        "avert",
        "préven",
        "prévien",
        "dénonc",
        "regrett",
        "salu",
        "promi",
        "promet",
        "confirm",
        "reconn",
        "racont",
        "témoign",
        "écri",
        "tweet",
        "soupir",
        "poursui",
        "tranch",
        "résum",
        "not",
        "observ",
        "comment",
        "conclu",
        "jug",
        "relev",
        "s'indign",
        "s'exclam",
        "lâch",
        "gliss",
        "ironis",
        "plaid",
        "s'inquiét",
        "s'est",
        "se félicit",
        "tempér",
        "lu",
        "admet",
        "admis",
        "concéd",
        "explic",
        "fustig",
        "assén",
        "clam",
        "déplor",
        "exhort",
        "appel",
        "martèl",
        "interrog",
        "répét",
        "scand",
        "menac",
        "dément",
        "démenti",
        "nuanc",
        "avou",
        "reproch",
        "accus",
        "critiqu",
        "rétorqu",
        "s'emport",
        "félicit",
        "détaill",
        "précis",
        "prédi",
        "prévoi",
        "craign",
        "craint",
        "espèr",
        "espér",
        "souhait",
        "invit",
        "exig",
        "demand",
        "proclam",
        "chant",
        "résum",
        "cit",
        "écrit",
    ];
    const EN: &[&str] = &[
        "said",
        "says",
        "say",
        "told",
        "tells",
        "added",
        "adds",
        "wrote",
        "writes",
        "reads",
        "read",
        "explained",
        "declared",
        "stated",
        "warned",
        "insisted",
        "argued",
        "noted",
        "tweeted",
        "posted",
        "announced",
        "claimed",
        "replied",
        "recalled",
        "asked",
        "urged",
        "continued",
        "stressed",
        "acknowledged",
        "admitted",
        "conceded",
        "complained",
        "quipped",
        "remarked",
        "observed",
        "responded",
        "agreed",
        "predicted",
        "promised",
        "vowed",
        "called",
        "described",
        "hailed",
        "praised",
        "welcomed",
        "criticised",
        "criticized",
        "denounced",
        "condemned",
        "rejected",
        "dismissed",
        "chanted",
        "insists",
        "warns",
        "adds",
        "notes",
        "argues",
        "explains",
    ];
    if english {
        EN.contains(&w)
    } else {
        FR.iter().any(|s| w.starts_with(s))
    }
}

/// Inverted French subject: `a-t-il`, `explique-t-elle`, `ajoute-il`.
fn inverted_pronoun(w: &str) -> bool {
    w.ends_with("-t-il")
        || w.ends_with("-t-elle")
        || w.ends_with("-il")
        || w.ends_with("-elle")
        || w.ends_with("-t-on")
}

/// What the resolver knows about the document.
struct Doc<'a> {
    chars: &'a [char],
    english: bool,
    entities: &'a [Entity],
    /// For each PER canonical: the words around its mentions (lower-case),
    /// used to resolve descriptions (`le sélectionneur belge`).
    context: Vec<(String, Vec<String>)>,
    /// Spans between quotation marks: a name there (a title, a person the
    /// speaker talks about) is not who a later pronoun stands for.
    quoted: Vec<(usize, usize)>,
}

impl<'a> Doc<'a> {
    fn new(chars: &'a [char], entities: &'a [Entity], english: bool) -> Self {
        let mut context: Vec<(String, Vec<String>)> = Vec::new();
        for e in entities.iter().filter(|e| e.label == EntityLabel::PER) {
            let from = sentence_start(chars, e.start).max(e.start.saturating_sub(80));
            let to = sentence_end(chars, e.end).min(e.end + 80);
            let mut ws: Vec<String> = words_in(chars, from, e.start)
                .into_iter()
                .rev()
                .take(6)
                .map(|w| w.lower)
                .collect();
            ws.extend(
                words_in(chars, e.end, to)
                    .into_iter()
                    .take(8)
                    .map(|w| w.lower),
            );
            match context.iter_mut().find(|(c, _)| *c == e.canonical) {
                Some((_, v)) => v.extend(ws),
                None => context.push((e.canonical.clone(), ws)),
            }
        }
        Doc {
            chars,
            english,
            entities,
            context,
            quoted: Vec::new(),
        }
    }

    /// Entities inside `[from, to)`, in text order.
    fn entities_in(&self, from: usize, to: usize) -> Vec<&'a Entity> {
        self.entities
            .iter()
            .filter(|e| e.start >= from && e.end <= to)
            .collect()
    }

    fn speaker_of(e: &Entity) -> Option<String> {
        match e.label {
            EntityLabel::PER | EntityLabel::ORG => Some(e.canonical.clone()),
            EntityLabel::LOC => None,
        }
    }

    /// Whether a preposition governs the entity starting at `at`: the
    /// nearest word before it that is not a title, determiner or rank
    /// (`devant le président X`), or one a couple of words further back in
    /// the same comma-free stretch (`par la télévision nationale ORTM`,
    /// `du groupe PPE`). A bracketed name (`(RN)`, `(AfCFTA)`) glosses the
    /// name before it and is never the subject.
    fn governed(&self, ws: &[Word], at: usize) -> bool {
        let chars = self.chars;
        let mut p = at;
        while p > 0 && is_space(chars[p - 1]) {
            p -= 1;
        }
        if p > 0 && chars[p - 1] == '(' {
            return true;
        }
        // `d’Orange`, `qu’Orange`: the elided word is glued to the name.
        if ws.iter().any(|w| {
            w.start < at && at < w.end && (w.lower.starts_with("d'") || w.lower.starts_with("qu'"))
        }) {
            return true;
        }
        let before: Vec<&Word> = ws.iter().filter(|w| w.end <= at).collect();
        let mut others = 0;
        let mut edge = at;
        for (i, w) in before.iter().enumerate().rev() {
            // Punctuation between this word and what follows ends the stretch.
            if chars[w.end..edge].iter().any(|c| {
                matches!(
                    c,
                    ',' | ';' | ':' | '(' | ')' | '—' | '–' | '«' | '»' | '“' | '”'
                )
            }) {
                return false;
            }
            edge = w.start;
            // The other words of a name next to this one (`Thérèse
            // Kayikwamba` before `Wagner`), and a name it is coordinated
            // with (`X et Y`), are part of the same phrase.
            let in_name = |w: &Word| {
                self.entities
                    .iter()
                    .any(|x| x.start <= w.start && w.end <= x.end)
            };
            if in_name(w)
                || matches!(w.lower.as_str(), "et" | "and") && i > 0 && in_name(before[i - 1])
            {
                continue;
            }
            let l = w.lower.as_str();
            let rank = matches!(l, "armée" | "d'armée" | "corps" | "division" | "brigade");
            // `Général de division X`: this `de` belongs to the rank.
            let rank_de = matches!(l, "de" | "d'")
                && before.get(i + 1).is_some_and(|n| {
                    matches!(
                        n.lower.as_str(),
                        "corps" | "division" | "brigade" | "d'armée" | "armée"
                    )
                });
            if words::TITLES.contains(&l)
                || DETERMINERS.contains(&l)
                || ADJ_SKIP.contains(&l)
                || rank
                || rank_de
            {
                continue;
            }
            if PREPOSITIONS.contains(&l) {
                return true;
            }
            others += 1;
            if others > 2 {
                return false;
            }
        }
        false
    }

    fn in_quote(&self, e: &Entity) -> bool {
        self.quoted.iter().any(|&(s, t)| s <= e.start && e.end <= t)
    }

    /// Persons with the number of their mentions before `at`.
    fn persons_before(&self, at: usize) -> Vec<(String, usize, usize)> {
        let mut out: Vec<(String, usize, usize)> = Vec::new();
        for e in self
            .entities
            .iter()
            .filter(|e| e.label == EntityLabel::PER && e.end <= at && !self.in_quote(e))
        {
            match out.iter_mut().find(|(c, _, _)| *c == e.canonical) {
                Some(x) => {
                    x.1 += 1;
                    x.2 = e.start;
                }
                None => out.push((e.canonical.clone(), 1, e.start)),
            }
        }
        out
    }

    /// The person most mentioned before `at` (the article's protagonist);
    /// ties go to the latest.
    fn protagonist(&self, at: usize) -> Option<String> {
        self.persons_before(at)
            .into_iter()
            .max_by_key(|(_, n, last)| (*n, *last))
            .map(|(c, _, _)| c)
    }

    fn last_org(&self, at: usize) -> Option<String> {
        self.entities
            .iter()
            .rfind(|e| e.label == EntityLabel::ORG && e.end <= at)
            .map(|e| e.canonical.clone())
    }

    /// The person a description (`le président américain`) stands for: the
    /// one whose mentions were surrounded by most of its words.
    fn describe(&self, words: &[String], at: usize) -> Option<String> {
        let persons = self.persons_before(at);
        // `le président français`: a person introduced with another
        // nationality (`le Premier ministre britannique X`) is not meant.
        let demonyms: Vec<&String> = words
            .iter()
            .filter(|w| crate::ner::is_demonym_word(w))
            .collect();
        let mut best: Option<(usize, usize, usize, String)> = None;
        for (c, n, last) in persons {
            let Some((_, ctx)) = self.context.iter().find(|(k, _)| *k == c) else {
                continue;
            };
            let score = words
                .iter()
                .filter(|w| ctx.iter().any(|x| same_stem(w, x)))
                .count();
            let other_nationality = !demonyms.is_empty()
                && ctx.iter().any(|x| {
                    crate::ner::is_demonym_word(x) && !demonyms.iter().any(|d| same_stem(d, x))
                })
                && !ctx.iter().any(|x| demonyms.iter().any(|d| same_stem(d, x)));
            if other_nationality {
                continue;
            }
            let key = (score, n, last, c);
            if best
                .as_ref()
                .is_none_or(|b| (key.0, key.1, key.2) > (b.0, b.1, b.2))
            {
                best = Some(key);
            }
        }
        best.map(|b| b.3)
    }
}

/// The same word up to a gender or number ending (`malien` / `malienne`,
/// `président` / `présidents`).
fn same_stem(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long
        || short.chars().count() >= 5
            && long.starts_with(short)
            && long.chars().count() - short.chars().count() <= 3
}

fn is_function_noun(w: &str) -> bool {
    words::TITLES.contains(&w) || FUNCTION_NOUNS.contains(&w)
}

/// Nouns that describe a person's role (`l'artiste`, `the striker`).
const FUNCTION_NOUNS: &[&str] = &[
    "artiste",
    "chanteur",
    "chanteuse",
    "musicien",
    "musicienne",
    "écrivain",
    "écrivaine",
    "romancier",
    "romancière",
    "auteur",
    "autrice",
    "réalisateur",
    "réalisatrice",
    "cinéaste",
    "bibliothécaire",
    "opposant",
    "opposante",
    "avocat",
    "avocate",
    "joueur",
    "joueuse",
    "attaquant",
    "milieu",
    "défenseur",
    "gardien",
    "pivot",
    "judoka",
    "coureur",
    "athlète",
    "fondateur",
    "fondatrice",
    "coordinateur",
    "coordinatrice",
    "dirigeant",
    "dirigeante",
    "responsable",
    "chercheur",
    "chercheuse",
    "économiste",
    "analyste",
    "cardinal",
    "pape",
    "souverain",
    "pontife",
    "diplomate",
    "cheffe",
    "chef",
    "militante",
    "militant",
    "activiste",
    "journaliste",
    "actrice",
    "acteur",
    "rappeur",
    "star",
    "lauréat",
    "lauréate",
    "vainqueur",
    "champion",
    "championne",
    "sélectionneur",
    "entraîneur",
    "capitaine",
    "writer",
    "author",
    "novelist",
    "singer",
    "artist",
    "actress",
    "actor",
    "director",
    "director-general",
    "filmmaker",
    "rapper",
    "striker",
    "player",
    "winner",
    "lawyer",
    "activist",
    "economist",
    "analyst",
    "founder",
    "leader",
    "co-leader",
    "coach",
    "manager",
    "executive",
    "chief",
    "head",
    "governor",
    "chairman",
    "chairwoman",
    "spokesman",
    "spokeswoman",
    "envoy",
    "pontiff",
    "general",
    "commander",
    "sprinter",
    "runner",
    "fighter",
    "boxer",
    "producer",
    "billionaire",
    "businessman",
    "businesswoman",
    "tycoon",
    "élu",
    "élue",
    "chancelier",
    "chancelière",
    "président",
    "présidente",
    "president",
    "ministre",
    "minister",
];

/// A speaker decision: `Some(name)` or `None` for an unnamed speaker.
type Speaker = Option<String>;

/// How the words of a description resolve: a named organisation or
/// person, `null`, or nothing known.
fn resolve_description(doc: &Doc<'_>, np: &[Word], at: usize) -> Option<Speaker> {
    let content: Vec<String> = np
        .iter()
        .map(|w| w.lower.trim_start_matches("l'").to_string())
        .filter(|w| {
            !DETERMINERS.contains(&w.as_str())
                && !ADJ_SKIP.contains(&w.as_str())
                && !PREPOSITIONS.contains(&w.as_str())
                && !w.is_empty()
        })
        .collect();
    let noun = content.first()?.as_str();
    // The head before any complement (`the founding charter of …`).
    let head = np
        .iter()
        .take_while(|w| !PREPOSITIONS.contains(&w.lower.as_str()))
        .last()
        .map_or(noun, |w| w.lower.as_str());
    if NULL_NOUNS.contains(&noun) || NULL_NOUNS.contains(&head) {
        return Some(None);
    }
    // `Ses avocats`, `les manifestants`: several people, no one speaker.
    let plural_det = np.first().is_some_and(|w| {
        matches!(
            w.lower.as_str(),
            "les" | "ses" | "leurs" | "des" | "their" | "his" | "her"
        )
    }) && (noun.ends_with('s') || noun.ends_with('x'));
    if plural_det && !ORG_NOUNS.contains(&noun.trim_end_matches('s')) {
        return Some(None);
    }
    if STATEMENT_NOUNS.contains(&noun) {
        return Some(statement_issuer(doc, at));
    }
    if ORG_NOUNS.contains(&noun) {
        let ctx = Ctx {
            doc,
            at,
            previous: None,
        };
        return Some(ctx.org_pronoun());
    }
    if INDEFINITE.contains(&noun) {
        return Some(None);
    }
    Some(doc.describe(&content, at).or_else(|| doc.protagonist(at)))
}

/// The organisation a `communiqué` came from: `selon un communiqué de X`.
fn statement_issuer(doc: &Doc<'_>, at: usize) -> Option<String> {
    let chars = doc.chars;
    let ws = words_in(chars, at.saturating_sub(2000), at);
    for (i, w) in ws.iter().enumerate().rev() {
        if STATEMENT_NOUNS.contains(&w.lower.as_str()) {
            let to = ws.get(i + 6).map_or(at, |w| w.end);
            if let Some(e) = doc
                .entities_in(w.end, to)
                .into_iter()
                .find(|e| e.label == EntityLabel::ORG)
            {
                return Some(e.canonical.clone());
            }
        }
    }
    None
}

/// The subject of the clause `ws` (words before a verb or a quote): the
/// first entity that no preposition governs, a pronoun, or a description.
/// `None` when the clause names nobody.
fn clause_subject(
    doc: &Doc<'_>,
    ws: &[Word],
    from: usize,
    to: usize,
    ctx: &Ctx<'_>,
) -> Option<Speaker> {
    if ws.is_empty() {
        return None;
    }
    // Words after a complementizer belong to an embedded clause.
    let limit = ws
        .iter()
        .find(|w| matches!(w.lower.as_str(), "que" | "qu'" | "that") || w.lower.starts_with("qu'"))
        .map_or(to, |w| w.start);
    let first_entity = doc
        .entities_in(from, limit)
        .into_iter()
        .find(|e| !doc.governed(ws, e.start));
    let lead: Vec<&Word> = ws
        .iter()
        .filter(|w| first_entity.is_none_or(|e| w.end <= e.start) && w.start < limit)
        .collect();
    // A pronoun subject before any entity; a title earlier in the same
    // clause says who it is (`du Président de la Transition, …, quand il
    // disait « … »`).
    if let Some(j) = lead
        .iter()
        .position(|w| PRONOUNS.contains(&w.lower.as_str()))
    {
        if let Some(t) = lead[..j].iter().rposition(|w| {
            words::TITLES.contains(&w.lower.as_str())
                && w.text.chars().next().is_some_and(char::is_uppercase)
        }) {
            let np: Vec<Word> = lead[t..j.min(t + 5)].iter().map(|w| (*w).clone()).collect();
            if let Some(Some(sp)) = resolve_description(doc, &np, ctx.at) {
                return Some(Some(sp));
            }
        }
        return Some(ctx.pronoun());
    }
    if first_entity.is_none()
        && lead
            .first()
            .is_some_and(|w| matches!(w.lower.as_str(), "it" | "they"))
    {
        return Some(ctx.org_pronoun());
    }
    // `World Bank President Ajay Banga`, `Niger's Defence Minister General
    // Salifou Mody`: an organisation or a place modifying a title, then the
    // person.
    let first_entity = first_entity.map(|e| {
        if e.label == EntityLabel::PER {
            return e;
        }
        doc.entities_in(e.end, limit)
            .into_iter()
            .find(|p| p.label == EntityLabel::PER)
            .filter(|p| {
                let between: Vec<&Word> = ws
                    .iter()
                    .filter(|w| w.start >= e.end && w.end <= p.start)
                    .collect();
                // `The UN human rights chief, Volker Türk,`: a function
                // noun, a comma, the person.
                let apposition = between.len() <= 6
                    && between.last().is_some_and(|w| {
                        is_function_noun(&w.lower)
                            && doc.chars[w.end..p.start]
                                .iter()
                                .all(|&c| c == ',' || is_space(c))
                            && doc.chars[w.end..p.start].contains(&',')
                    })
                    && doc.chars[e.end..p.start]
                        .iter()
                        .filter(|&&c| c == ',')
                        .count()
                        == 1;
                apposition
                    || between.len() <= 6
                        && !between.is_empty()
                        && between.iter().all(|w| {
                            is_function_noun(&w.lower)
                                || w.text.chars().next().is_some_and(char::is_uppercase)
                                || matches!(
                                    w.lower.as_str(),
                                    "of" | "s"
                                        | "'s"
                                        | "state"
                                        | "first"
                                        | "managing"
                                        | "deputy"
                                        | "co-leader"
                                        | "leader"
                                        | "chief"
                                        | "head"
                                )
                        })
                        && !doc.chars[e.end..p.start].contains(&',')
            })
            .unwrap_or(e)
    });
    // `…, accueillis par Donald Trump, qui a salué « … »`: the subject of
    // the relative clause the quote is in.
    if let Some(q) = ws
        .iter()
        .rposition(|w| matches!(w.lower.as_str(), "qui" | "who"))
    {
        let before = ws[..q].last().map_or(0, |w| w.end);
        if let Some(e) = doc
            .entities_in(from, ws[q].start)
            .into_iter()
            .next_back()
            .filter(|e| e.end + 3 >= before && e.end <= ws[q].start)
            && e.label != EntityLabel::LOC
        {
            return Some(Doc::speaker_of(e));
        }
    }
    if let Some(e) = first_entity {
        return Some(Doc::speaker_of(e));
    }
    let np_start = lead.iter().position(|w| {
        DETERMINERS.contains(&w.lower.as_str())
            || w.lower.starts_with("l'")
            || INDEFINITE.contains(&w.lower.as_str())
            || doc.english && w.lower == "a"
    })?;
    let np: Vec<Word> = lead[np_start..]
        .iter()
        .take(5)
        .map(|w| (*w).clone())
        .collect();
    if INDEFINITE.contains(&np[0].lower.as_str()) || doc.english && np[0].lower == "a" {
        return Some(None);
    }
    resolve_description(doc, &np, ctx.at)
}

/// Per-quote context for pronoun resolution.
struct Ctx<'a> {
    doc: &'a Doc<'a>,
    at: usize,
    /// The speaker of the previous attributed quote, when it is close
    /// (same paragraph, or the sentence just before).
    previous: Option<Speaker>,
}

impl Ctx<'_> {
    /// `it said`, `the group said`: the organisation that was the subject
    /// of a recent sentence, else the last one named.
    fn org_pronoun(&self) -> Speaker {
        let chars = self.doc.chars;
        let mut end = sentence_start(chars, self.at);
        // The quote's own sentence first.
        let own = words_in(chars, end, self.at);
        if let Some(e) = self
            .doc
            .entities_in(end, self.at)
            .into_iter()
            .find(|e| e.label == EntityLabel::ORG && !self.doc.governed(&own, e.start))
        {
            return Some(e.canonical.clone());
        }
        for _ in 0..3 {
            if end == 0 {
                break;
            }
            let start = sentence_start(chars, end - 1);
            let ws = words_in(chars, start, end);
            if let Some(e) = self
                .doc
                .entities_in(start, end)
                .into_iter()
                .find(|e| e.label == EntityLabel::ORG && !self.doc.governed(&ws, e.start))
            {
                return Some(e.canonical.clone());
            }
            end = start;
        }
        // The last organisation that was a subject, else the last one named.
        self.doc
            .entities
            .iter()
            .filter(|e| e.label == EntityLabel::ORG && e.end <= self.at)
            .rfind(|e| {
                let ws = words_in(chars, sentence_start(chars, e.start), e.start);
                !self.doc.governed(&ws, e.start)
            })
            .map(|e| e.canonical.clone())
            .or_else(|| self.doc.last_org(self.at))
    }

    /// `il`, `elle`, `he`, `she`: the previous quote's speaker when it is
    /// close, else the subject of the nearest sentence before that has one,
    /// else the last person named.
    fn pronoun(&self) -> Speaker {
        if let Some(p) = &self.previous {
            return p.clone();
        }
        let chars = self.doc.chars;
        let mut end = sentence_start(chars, self.at);
        for _ in 0..4 {
            if end == 0 {
                break;
            }
            let start = sentence_start(chars, end - 1);
            let ws = words_in(chars, start, end);
            if let Some(e) = self
                .doc
                .entities_in(start, end)
                .into_iter()
                .filter(|e| e.label == EntityLabel::PER && !self.doc.in_quote(e))
                .find(|e| !self.doc.governed(&ws, e.start))
            {
                return Some(e.canonical.clone());
            }
            end = start;
        }
        self.doc
            .entities
            .iter()
            .rfind(|e| e.label == EntityLabel::PER && e.end <= self.at && !self.doc.in_quote(e))
            .map(|e| e.canonical.clone())
    }
}

/// Words of an attribution that come after a quote, starting with the
/// verb group (`a déclaré`, `a-t-il ajouté`, `said`): the speaker.
fn after_clause(
    doc: &Doc<'_>,
    ws: &[Word],
    from: usize,
    to: usize,
    ctx: &Ctx<'_>,
) -> Option<Speaker> {
    let is_aux = |w: &str| {
        matches!(
            w,
            "a" | "avait"
                | "aurait"
                | "ont"
                | "avaient"
                | "has"
                | "had"
                | "have"
                | "was"
                | "is"
                | "s'est"
                | "se"
                | "s'était"
                | "encore"
                | "aussi"
                | "alors"
                | "ensuite"
                | "également"
                | "then"
                | "also"
                | "later"
                | "pour"
                | "sa"
                | "part"
                | "quant"
                | "lui"
                | "elle"
                | "de"
                | "son"
                | "côté"
        )
    };
    let mut k = 0;
    let mut verb = false;
    while k < ws.len()
        && (is_speech_verb(&ws[k].lower, doc.english)
            || inverted_pronoun(&ws[k].lower)
            || is_aux(&ws[k].lower) && !(k > 0 && DETERMINERS.contains(&ws[k].lower.as_str())))
    {
        if inverted_pronoun(&ws[k].lower) {
            return Some(ctx.pronoun());
        }
        verb |= is_speech_verb(&ws[k].lower, doc.english);
        // `pour sa part` / `de son côté` is an adverbial, keep going.
        k += 1;
    }
    if !verb {
        // English: the subject comes first (`” Mahama told`, `,” he said`,
        // `,” the group said`).
        let v = ws
            .iter()
            .take(16)
            .position(|w| is_speech_verb(&w.lower, doc.english) && !w.lower.starts_with("not"))?;
        let subject = &ws[..v];
        if subject.is_empty() {
            return None;
        }
        return clause_subject(
            doc,
            subject,
            from,
            subject.last().map_or(to, |w| w.end),
            ctx,
        );
    }
    let np = &ws[k..];
    let first = np.first()?;
    if PRONOUNS.contains(&first.lower.as_str()) {
        return Some(ctx.pronoun());
    }
    if matches!(first.lower.as_str(), "it" | "they") {
        return Some(ctx.org_pronoun());
    }
    if INDEFINITE.contains(&first.lower.as_str()) || doc.english && first.lower == "a" {
        return Some(None);
    }
    // The first entity, unless an adjunct (`lors de`, `devant`, `à`)
    // starts before it; then the description is the subject.
    if matches!(first.lower.as_str(), "ce" | "cette" | "the")
        && np
            .get(1)
            .is_some_and(|w| matches!(w.lower.as_str(), "dernier" | "dernière" | "latter"))
    {
        return Some(
            doc.entities
                .iter()
                .rfind(|e| e.label == EntityLabel::PER && e.end <= ctx.at)
                .map(|e| e.canonical.clone()),
        );
    }
    // The first entity that no preposition governs (`le président de la
    // CAF, Patrice Motsepe`), unless an adjunct (`lors de`, `devant`)
    // starts before it; then the description is the subject.
    let ents = doc.entities_in(first.start, to);
    let entity_first = ents
        .iter()
        .copied()
        .find(|e| !doc.governed(np, e.start))
        .filter(|e| {
            !np.iter()
                .filter(|w| w.end <= e.start)
                .any(|w| BREAKS.contains(&w.lower.as_str()))
        });
    if let Some(e) = entity_first {
        return Some(Doc::speaker_of(e));
    }
    if DETERMINERS.contains(&first.lower.as_str()) || first.lower.starts_with("l'") {
        let end = np
            .iter()
            .position(|w| BREAKS.contains(&w.lower.as_str()))
            .unwrap_or(np.len());
        return resolve_description(doc, &np[..end.max(1)], ctx.at);
    }
    None
}

/// Find the quotes of `text` and their speakers among `entities`.
pub fn quotes(text: &str, entities: &[Entity], lang: &str) -> Vec<Quote> {
    let chars: Vec<char> = text.chars().collect();
    let segs = segments(&chars);
    let mut doc = Doc::new(&chars, entities, lang == "en");
    doc.quoted = segs.iter().map(|s| (s.start, s.end)).collect();
    let keep: Vec<bool> = segs.iter().map(|s| !is_name_or_title(&chars, s)).collect();
    // Some(speaker) once decided (the speaker may be None = unnamed).
    let mut decided: Vec<Option<Speaker>> = vec![None; segs.len()];
    let mut explicit: Vec<bool> = vec![false; segs.len()];
    for k in 0..segs.len() {
        if !keep[k] {
            continue;
        }
        let s = &segs[k];
        // The previous attributed quote, if it is in this paragraph or
        // in the sentence just before.
        let para = paragraph_of(&chars, s.open);
        let prev_sentence =
            sentence_start(&chars, sentence_start(&chars, s.open).saturating_sub(1));
        let previous = (0..k)
            .rev()
            .find(|&j| keep[j] && explicit[j])
            .filter(|&j| {
                paragraph_of(&chars, segs[j].open) == para || segs[j].close >= prev_sentence
            })
            .and_then(|j| decided[j].clone());
        let ctx = Ctx {
            doc: &doc,
            at: s.open,
            previous,
        };
        if let Some(sp) = attribution(&doc, &chars, &segs, &keep, k, &ctx) {
            decided[k] = Some(sp);
            explicit[k] = true;
        }
    }
    // Segments without an attribution of their own: a continuation takes
    // the quote it continues; otherwise the nearest attributed segment of
    // the same paragraph.
    for k in 0..segs.len() {
        if !keep[k] || decided[k].is_some() {
            continue;
        }
        let s = &segs[k];
        // A quote left open takes the speaker of the segment continuing it.
        if !s.closed && k + 1 < segs.len() && segs[k + 1].continues && decided[k + 1].is_some() {
            decided[k] = decided[k + 1].clone();
            continue;
        }
        if s.continues && k > 0 && decided[k - 1].is_some() {
            decided[k] = decided[k - 1].clone();
            continue;
        }
        let para = paragraph_of(&chars, s.open);
        let prev = (0..k).rev().find(|&j| {
            keep[j] && paragraph_of(&chars, segs[j].open) == para && decided[j].is_some()
        });
        let next = (k + 1..segs.len()).find(|&j| {
            keep[j] && paragraph_of(&chars, segs[j].open) == para && decided[j].is_some()
        });
        if let Some(j) = prev.or(next) {
            decided[k] = decided[j].clone();
        }
    }
    // A quote left open at a paragraph's end takes the speaker its
    // continuation gets (`“…¶¶“…,” said X`).
    for k in (0..segs.len().saturating_sub(1)).rev() {
        if keep[k] && decided[k].is_none() && segs[k + 1].continues && decided[k + 1].is_some() {
            decided[k] = decided[k + 1].clone();
        }
    }
    segs.iter()
        .enumerate()
        .filter(|(k, _)| keep[*k])
        .map(|(k, s)| Quote {
            start: s.start,
            end: s.end,
            speaker: decided[k].clone().flatten(),
            text: chars[s.start..s.end].iter().collect(),
        })
        .collect()
}

/// A nickname, a name or a title of a work between marks (`dit « Hemedti »`,
/// `le film « Atlantique »`), or a gloss (`« Kuma », qui signifie`).
fn is_name_or_title(chars: &[char], s: &Segment) -> bool {
    let inner = words_in(chars, s.start, s.end);
    let before = words_in(chars, s.open.saturating_sub(60), s.open);
    let naming = before
        .last()
        .is_some_and(|w| NAMING.contains(&w.lower.as_str()))
        || before.iter().rev().take(2).any(|w| {
            matches!(
                w.lower.as_str(),
                "dit" | "surnommé" | "surnommée" | "alias" | "known" | "nicknamed" | "dubbed"
            )
        });
    let capital_short = inner.len() <= 4
        && inner
            .first()
            .is_some_and(|w| w.text.chars().next().is_some_and(char::is_uppercase))
        && !chars[s.start..s.end]
            .iter()
            .any(|c| matches!(c, '.' | '!' | '?' | ','));
    let after = words_in(
        chars,
        s.close.min(chars.len()),
        (s.close + 30).min(chars.len()),
    );
    let gloss = capital_short
        && after
            .first()
            .is_some_and(|w| matches!(w.lower.as_str(), "qui" | "signifie" | "meaning" | "which"));
    // `“Weep Not, Child”`, `« Le Vieux Nègre et la Médaille »`: every
    // content word capitalised is a title, not speech.
    let title_case = inner.len() >= 2
        && inner.len() <= 8
        && inner.iter().all(|w| {
            w.text
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit())
                || matches!(
                    w.lower.as_str(),
                    "of" | "the"
                        | "a"
                        | "an"
                        | "and"
                        | "in"
                        | "on"
                        | "to"
                        | "de"
                        | "la"
                        | "le"
                        | "les"
                        | "et"
                        | "du"
                        | "des"
                )
        })
        && !chars[s.start..s.end]
            .iter()
            .any(|c| matches!(c, '.' | '!' | '?'));
    naming && (capital_short || inner.len() <= 3) || gloss || title_case
}

fn paragraph_of(chars: &[char], at: usize) -> usize {
    let mut i = at;
    while i > 0 {
        if chars[i - 1] == '\n' {
            return i;
        }
        i -= 1;
    }
    0
}

/// The speaker of segment `k` from its own sentence, if the text gives one.
fn attribution(
    doc: &Doc<'_>,
    chars: &[char],
    segs: &[Segment],
    keep: &[bool],
    k: usize,
    ctx: &Ctx<'_>,
) -> Option<Speaker> {
    let s = &segs[k];
    // After the quote: `», a déclaré X`, `,” he said`, `” Mahama told`,
    // or further on in the sentence (`» de la dette, avait lancé X`).
    if s.closed {
        let from = s.close + 1;
        let mut to = sentence_end(chars, from);
        if let Some(next) = segs[k + 1..]
            .iter()
            .zip(&keep[k + 1..])
            .find(|(_, kp)| **kp)
            .map(|(n, _)| n)
        {
            to = to.min(next.open);
        }
        let ws = words_in(chars, from, to);
        let lead: String = chars[from..to.min(from + 3)].iter().collect();
        let comma = lead.trim_start_matches(is_space).starts_with(',')
            || chars[s.close.saturating_sub(1)] == ',';
        let starts = ws.first().map(|w| w.lower.as_str()).unwrap_or("");
        if comma || is_speech_verb(starts, doc.english) || inverted_pronoun(starts) || doc.english {
            if starts == "selon" || starts == "according" {
                let rest = &ws[1..];
                if let Some(sp) =
                    clause_subject(doc, rest, rest.first().map_or(to, |w| w.start), to, ctx)
                {
                    return Some(sp);
                }
            } else if let Some(sp) = after_clause(doc, &ws, from, to, ctx) {
                return Some(sp);
            }
        }
        // `» de la dette, avait lancé X`: a speech verb later in the sentence.
        if let Some(v) = ws
            .iter()
            .position(|w| matches!(w.lower.as_str(), "a" | "avait" | "aurait"))
            .filter(|&v| {
                ws.get(v + 1)
                    .is_some_and(|w| is_speech_verb(&w.lower, doc.english))
                    && v > 0
            })
            && let Some(sp) = after_clause(doc, &ws[v..], ws[v].start, to, ctx)
        {
            return Some(sp);
        }
    }
    // Before the quote, in its sentence, from the last quote before it.
    let mut from = sentence_start(chars, s.open);
    if let Some(p) = segs[..k]
        .iter()
        .zip(keep)
        .rev()
        .find(|(p, kp)| **kp && p.close < s.open && p.close >= from)
    {
        from = p.0.close + 1;
    }
    if from >= s.open {
        return None;
    }
    let ws = words_in(chars, from, s.open);
    if ws.is_empty() {
        return None;
    }
    if let Some(p) = ws
        .iter()
        .position(|w| w.lower == "selon" || w.lower == "according")
    {
        let rest = &ws[p + 1..];
        if rest
            .first()
            .is_some_and(|w| matches!(w.lower.as_str(), "lui" | "elle" | "him" | "her"))
        {
            return Some(ctx.pronoun());
        }
        if let Some(sp) = clause_subject(
            doc,
            rest,
            rest.first().map_or(s.open, |w| w.start),
            s.open,
            ctx,
        ) {
            return Some(sp);
        }
    }
    if let Some(sp) = nearest_speech_subject(doc, &ws) {
        return Some(sp);
    }
    // Cut at an earlier attribution verb's object in the sentence
    // (`…, saluant « … »`): the clause is the whole stretch.
    clause_subject(doc, &ws, from, s.open, ctx)
}

/// The subject of the last speech verb before a quote, when that verb has
/// its own subject in its clause: `avant que le vice-président X ne
/// reproche … son « … »`, `the kingdom that X described as “…”`. A
/// subject after `but`/`et` is the previous verb's (`Aid agencies said …
/// but warned that …`). Crowds, texts and plural common nouns (`les
/// tribunes scandaient`, `the government rejected as`) give `null`;
/// `Observers from the X said` gives X. `None` leaves the decision to
/// the clause rules (pronouns, descriptions, an entity further back).
fn nearest_speech_subject(doc: &Doc<'_>, ws: &[Word]) -> Option<Speaker> {
    let boundary = |i: usize| {
        i == 0
            || doc.chars[ws[i - 1].end..ws[i].start].iter().any(|c| {
                matches!(
                    c,
                    ',' | ';' | ':' | '(' | ')' | '—' | '–' | '«' | '»' | '“' | '”' | '.' | '"'
                )
            })
    };
    let stop = |w: &str| {
        matches!(
            w,
            "que"
                | "qu'"
                | "that"
                | "and"
                | "but"
                | "et"
                | "mais"
                | "tandis"
                | "while"
                | "who"
                | "qui"
                | "which"
                | "dont"
                | "où"
                | "when"
                | "quand"
                | "lorsque"
                | "whom"
        ) || w.starts_with("qu'")
    };
    let coordinated = |w: &str| matches!(w, "and" | "but" | "et" | "mais");
    let aux = |w: &str| {
        matches!(
            w,
            "a" | "ont"
                | "avait"
                | "avaient"
                | "aurait"
                | "has"
                | "had"
                | "have"
                | "was"
                | "were"
                | "is"
                | "ne"
                | "n'"
                | "also"
                | "aussi"
                | "then"
                | "later"
                | "s'est"
                | "se"
                | "alors"
                | "ensuite"
                | "également"
                | "would"
                | "will"
                | "a-t-il"
        )
    };
    let mut v_end = ws.len();
    loop {
        let v = ws[..v_end]
            .iter()
            .rposition(|w| is_speech_verb(&w.lower, doc.english) && !aux(&w.lower))?;
        let mut k = v;
        while k > 0 && !boundary(k) && !stop(&ws[k - 1].lower) {
            k -= 1;
        }
        let mut e = v;
        while e > k && aux(&ws[e - 1].lower) {
            e -= 1;
        }
        let chunk = &ws[k..e];
        if chunk.is_empty() {
            // `… said X, but warned that`: the earlier verb's subject.
            if k > 0 && !boundary(k) && coordinated(&ws[k - 1].lower) {
                v_end = k - 1;
                continue;
            }
            return None;
        }
        // `a assuré que les opérations se poursuivraient « … »`: the verb
        // is inside the reported clause; the main clause decides.
        if k >= 2
            && (matches!(ws[k - 1].lower.as_str(), "que" | "that") || ws[k - 1].lower == "qu'")
            && !boundary(k - 1)
            && is_speech_verb(&ws[k - 2].lower, doc.english)
        {
            return None;
        }
        let (from, to) = (chunk[0].start, chunk[chunk.len() - 1].end);
        let ents = doc.entities_in(from, to);
        // The last name the chunk does not govern: `RSF commander X said`
        // is X's word, not the group's.
        if let Some(x) = ents
            .iter()
            .filter(|x| x.label != EntityLabel::LOC)
            .rfind(|x| !doc.governed(chunk, x.start))
            .or_else(|| ents.iter().find(|x| !doc.governed(chunk, x.start)))
        {
            return match x.label {
                EntityLabel::LOC => None,
                _ => Some(Doc::speaker_of(x)),
            };
        }
        let head = chunk
            .iter()
            .take_while(|w| !PREPOSITIONS.contains(&w.lower.as_str()))
            .last()?;
        let h = head.lower.as_str();
        if PRONOUNS.contains(&h) || matches!(h, "it" | "they" | "on" | "we" | "nous" | "i" | "je") {
            return None;
        }
        let plural = h.chars().count() > 3 && (h.ends_with('s') || h.ends_with('x'));
        // `Observers from the African Union said`: the organisation.
        if doc.english && plural && ents.first().is_some_and(|x| x.label == EntityLabel::ORG) {
            let of = chunk
                .iter()
                .position(|w| matches!(w.lower.as_str(), "from" | "of"));
            if of == Some(chunk.iter().position(|w| w.start == head.start)? + 1) {
                return Some(Doc::speaker_of(ents[0]));
            }
        }
        if !ents.is_empty() {
            return None;
        }
        let det = chunk[0].lower.as_str();
        let function = is_function_noun(h) || is_function_noun(h.trim_end_matches('s'));
        if NULL_NOUNS.contains(&h)
            || plural
                && !function
                && (matches!(
                    det,
                    "les" | "the" | "des" | "ces" | "these" | "those" | "leurs"
                ) || doc.english && chunk.len() <= 3)
        {
            return Some(None);
        }
        return None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(text: &str, name: &str, label: EntityLabel, canonical: &str) -> Entity {
        let byte = text.find(name).unwrap();
        let start = text[..byte].chars().count();
        Entity {
            start,
            end: start + name.chars().count(),
            label,
            text: name.into(),
            canonical: canonical.into(),
            geo: None,
        }
    }

    #[test]
    fn french_attributions_after_and_before() {
        let text = "Le Général Sadio Camara a reçu Iounous-Bek Evkourov.\n\n« Le Mali n’a pas choisi ses partenaires au hasard », a déclaré le Général Camara.\n\nEvkourov a salué « la détermination des FAMa ». « La Russie restera aux côtés du Mali », a-t-il confié à son homologue.\n\n« Nous avons peur », a raconté un habitant.";
        let ents = vec![
            ent(text, "Sadio Camara", EntityLabel::PER, "Sadio Camara"),
            ent(
                text,
                "Iounous-Bek Evkourov",
                EntityLabel::PER,
                "Iounous-Bek Evkourov",
            ),
            ent(text, "Camara.", EntityLabel::PER, "Sadio Camara"),
        ];
        let mut ents = ents;
        ents[2].end -= 1;
        let ev = text.find("Evkourov a").unwrap();
        let s = text[..ev].chars().count();
        ents.push(Entity {
            start: s,
            end: s + 8,
            label: EntityLabel::PER,
            text: "Evkourov".into(),
            canonical: "Iounous-Bek Evkourov".into(),
            geo: None,
        });
        ents.sort_by_key(|e| e.start);
        let q = quotes(text, &ents, "fr");
        let got: Vec<(&str, Option<&str>)> = q
            .iter()
            .map(|q| (q.text.as_str(), q.speaker.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "Le Mali n’a pas choisi ses partenaires au hasard",
                    Some("Sadio Camara")
                ),
                ("la détermination des FAMa", Some("Iounous-Bek Evkourov")),
                (
                    "La Russie restera aux côtés du Mali",
                    Some("Iounous-Bek Evkourov")
                ),
                ("Nous avons peur", None),
            ]
        );
    }

    #[test]
    fn english_split_quotes_and_paragraph_continuation() {
        let text = "President Bola Tinubu spoke.\n\n“Fuel subsidy is gone,” he declared. “We move on.”\n\n“It was a long road.\n\n“Now we build,” said Tinubu.\n\nHe was once dubbed “Jagaban”.";
        let mut ents = vec![ent(text, "Bola Tinubu", EntityLabel::PER, "Bola Tinubu")];
        let mut t = ent(text, "Tinubu.", EntityLabel::PER, "Bola Tinubu");
        t.end -= 1;
        ents.push(t);
        let q = quotes(text, &ents, "en");
        let got: Vec<(&str, Option<&str>)> = q
            .iter()
            .map(|q| (q.text.as_str(), q.speaker.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("Fuel subsidy is gone,", Some("Bola Tinubu")),
                ("We move on.", Some("Bola Tinubu")),
                ("It was a long road.", Some("Bola Tinubu")),
                ("Now we build,", Some("Bola Tinubu")),
            ]
        );
    }

    /// `(quote, speaker)` of every quote, with the crate's own entities.
    fn speakers(text: &str, lang: &str) -> Vec<(String, Option<String>)> {
        let ents = crate::ner::entities(text);
        quotes(text, &ents, lang)
            .into_iter()
            .map(|q| (q.text, q.speaker))
            .collect()
    }

    fn one(text: &str, lang: &str) -> Option<String> {
        let got = speakers(text, lang);
        assert_eq!(got.len(), 1, "{got:?}");
        got[0].1.clone()
    }

    #[test]
    fn apposition_after_a_bracketed_acronym_or_a_function() {
        let text = "Le président de l’Union des artisans du Ségou (UAS), Karim Dabo, a salué « un bon accord ».";
        assert_eq!(one(text, "fr").as_deref(), Some("Karim Dabo"));
        let text = "Interrogé par la radio nationale ORTV, le porte-parole du parti, Issa Coulibaly, a assuré que la grève cesserait « dès lundi ».";
        assert_eq!(one(text, "fr").as_deref(), Some("Issa Coulibaly"));
        let text = "The UN food chief, Martha Okello, warned of “a lost harvest”.";
        assert_eq!(one(text, "en").as_deref(), Some("Martha Okello"));
    }

    #[test]
    fn the_subject_of_the_nearest_speech_verb() {
        let text = "« Partez », a lancé le maire Paul Sanou à son adjoint, avant que la députée Awa Sidibé ne reproche à ce dernier son « mépris ».";
        let got = speakers(text, "fr");
        assert_eq!(got[1].1.as_deref(), Some("Awa Sidibé"), "{got:?}");
        let text =
            "Chad, a country that Marcus Bell last year described as “a rock of stability”, voted.";
        assert_eq!(one(text, "en").as_deref(), Some("Marcus Bell"));
        let text = "NNPC chief Bayo Adewale said the plant was “ready.”";
        assert_eq!(one(text, "en").as_deref(), Some("Bayo Adewale"));
    }

    #[test]
    fn crowds_plural_nouns_and_texts_have_no_speaker() {
        let text = "« Merci », a dit Moussa Dembélé, tandis que les gradins scandaient « Moussa ! Moussa ! ».";
        let got = speakers(text, "fr");
        assert_eq!(got[1].1, None, "{got:?}");
        let text = "Chief Ada Obi spoke. Aid groups said supplies had improved, but warned that stocks remained “fragile.”";
        assert_eq!(one(text, "en"), None);
        let text =
            "Joseph Kamau spoke. “We stand together,” reads the founding charter of the league.";
        assert_eq!(one(text, "en"), None);
    }

    #[test]
    fn members_of_an_organisation_and_a_decimal_point() {
        let text = "Observers from the African Union said the count “was fair”.";
        assert_eq!(one(text, "en").as_deref(), Some("African Union"));
        let text = "Amadou Sy spoke first. The International Monetary Fund, which lent $1.5 billion in 2023, said it would help with “urgent reforms.”";
        assert_eq!(
            one(text, "en").as_deref(),
            Some("International Monetary Fund")
        );
    }

    #[test]
    fn descriptions_with_a_nationality_and_names_inside_quotes() {
        let text = "Le ministre britannique Alan Brackwood et Jean Morvel ont signé l’accord. « C’est historique », a dit le ministre français.";
        assert_eq!(
            one(text, "fr").as_deref(),
            Some("Jean Morvel"),
            "{:?}",
            crate::ner::entities(text)
        );
        let text = "Amadou Kane vit à Dakar. Son roman s’intitule « Le Fils de Koffi Mensah ». « J’écris la nuit », a-t-il confié.";
        let got = speakers(text, "fr");
        assert_eq!(
            got.last().and_then(|q| q.1.as_deref()),
            Some("Amadou Kane"),
            "{got:?}"
        );
    }
}
