use newsflow_core::{Article, Entity, EntityLabel};

use super::*;

const SEED: &str = include_str!("../fixtures/000_131b8218b7f828c0.txt");

fn ents(text: &str) -> Vec<Entity> {
    annotate(text, None).entities
}

/// `(label, text, canonical)` of every mention.
fn triples(text: &str) -> Vec<(EntityLabel, String, String)> {
    ents(text)
        .into_iter()
        .map(|e| (e.label, e.text, e.canonical))
        .collect()
}

fn has(
    found: &[(EntityLabel, String, String)],
    label: EntityLabel,
    text: &str,
    canonical: &str,
) -> bool {
    found
        .iter()
        .any(|(l, t, c)| *l == label && t == text && c == canonical)
}

fn check_offsets(text: &str, entities: &[Entity]) {
    let chars: Vec<char> = text.chars().collect();
    for e in entities {
        let span: String = chars[e.start..e.end].iter().collect();
        assert_eq!(span, e.text, "offsets of {e:?}");
    }
    for w in entities.windows(2) {
        assert!(w[0].end <= w[1].start, "overlap or disorder: {w:?}");
    }
}

#[test]
fn seed_article() {
    let e = annotate(SEED, Some("fr"));
    assert_eq!(e.lang, "fr");
    assert!(e.lang_confidence > 0.9);
    check_offsets(SEED, &e.entities);
    let found: Vec<_> = e
        .entities
        .iter()
        .map(|e| (e.label, e.text.clone(), e.canonical.clone()))
        .collect();
    use EntityLabel::*;
    assert!(has(&found, PER, "Sadio Camara", "Sadio Camara"));
    assert!(
        has(&found, PER, "Camara", "Sadio Camara"),
        "`le Général Camara` → span `Camara`"
    );
    assert!(has(&found, PER, "Assimi Goïta", "Assimi Goïta"));
    assert!(has(&found, PER, "André Beloosov", "André Beloosov"));
    assert!(
        has(&found, PER, "Beloosov", "André Beloosov"),
        "`le ministre Beloosov`"
    );
    assert!(has(
        &found,
        PER,
        "Alassane SOULEYMANE",
        "Alassane Souleymane"
    ));
    assert!(has(&found, LOC, "Mali", "Mali"));
    assert!(has(&found, LOC, "Russie", "Russie"));
    assert!(has(&found, LOC, "Sahel", "Sahel"));
    assert!(has(&found, LOC, "Fédération de Russie", "Russie"));
    assert!(has(&found, ORG, "FAMAs", "Forces armées maliennes"));
    assert!(has(
        &found,
        ORG,
        "ministère de la Défense",
        "ministère de la Défense"
    ));
    for (_, text, _) in &found {
        assert!(
            !matches!(
                text.as_str(),
                "Maliens" | "Général" | "Président" | "Transition" | "Chefs"
            ),
            "{text}"
        );
        assert!(
            !text.starts_with("Général") && !text.starts_with("Le "),
            "title inside a span: {text}"
        );
    }
}

#[test]
fn french_titles_particles_and_acronyms() {
    let text = "BAMAKO, 18 juin (AMAP) – Le ministre de la Défense et des Anciens Combattants, \
                le Général de corps d’armée Sadio Camara, a salué « la détermination des Forces \
                armées maliennes (FAMa) ». M. Camara a reçu l’ambassadeur de Côte d’Ivoire au \
                ministère des Affaires étrangères. La CEDEAO et l’ONU ont réagi.";
    let found = triples(text);
    check_offsets(text, &ents(text));
    use EntityLabel::*;
    assert!(has(&found, LOC, "BAMAKO", "Bamako"), "{found:?}");
    assert!(has(&found, ORG, "AMAP", "AMAP"));
    assert!(has(&found, PER, "Sadio Camara", "Sadio Camara"));
    assert!(has(&found, PER, "Camara", "Sadio Camara"));
    assert!(has(
        &found,
        ORG,
        "Forces armées maliennes",
        "Forces armées maliennes"
    ));
    assert!(has(&found, ORG, "FAMa", "Forces armées maliennes"));
    assert!(has(&found, LOC, "Côte d’Ivoire", "Côte d'Ivoire"));
    assert!(has(
        &found,
        ORG,
        "ministère des Affaires étrangères",
        "ministère des Affaires étrangères"
    ));
    assert!(has(
        &found,
        ORG,
        "CEDEAO",
        "Communauté économique des États de l'Afrique de l'Ouest"
    ));
    assert!(has(&found, ORG, "ONU", "Organisation des Nations unies"));
    // A portfolio is not an organisation.
    assert!(
        !found.iter().any(|(_, t, _)| t.contains("Défense")),
        "{found:?}"
    );
}

#[test]
fn demonyms_and_sentence_starts_are_not_entities() {
    let found = triples(
        "Les Maliens et les Russes ont voté. Signature d’accords. Ainsi les Sénégalais sont venus.",
    );
    assert!(found.is_empty(), "{found:?}");
    let found = triples("Nigerian troops and Malian officials met. The Ivorians left on Monday.");
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn english_sentences() {
    let text = "ACCRA (Reuters) - Ghana’s President John Mahama said on Tuesday that the \
                International Monetary Fund (IMF) had approved a loan. Mahama told reporters in \
                Accra that the World Bank would also help. U.S. President Donald Trump did not comment.";
    let found = triples(text);
    check_offsets(text, &ents(text));
    use EntityLabel::*;
    assert!(has(&found, LOC, "ACCRA", "Accra"), "{found:?}");
    assert!(has(&found, ORG, "Reuters", "Reuters"));
    assert!(
        has(&found, LOC, "Ghana", "Ghana"),
        "possessive outside the span"
    );
    assert!(has(&found, PER, "John Mahama", "John Mahama"));
    assert!(has(&found, PER, "Mahama", "John Mahama"));
    assert!(has(
        &found,
        ORG,
        "International Monetary Fund",
        "International Monetary Fund"
    ));
    assert!(has(&found, ORG, "IMF", "International Monetary Fund"));
    assert!(has(&found, ORG, "World Bank", "World Bank"));
    assert!(has(&found, LOC, "U.S.", "United States"));
    assert!(has(&found, PER, "Donald Trump", "Donald Trump"));
    assert!(
        !found
            .iter()
            .any(|(_, t, _)| t == "Tuesday" || t.starts_with("President"))
    );
}

#[test]
fn later_full_name_resolves_an_earlier_surname() {
    let text =
        "Selon lui, Diarra a refusé. Le lendemain, le colonel Abdoulaye Diarra a démissionné.";
    let found = triples(text);
    assert!(
        has(&found, EntityLabel::PER, "Diarra", "Abdoulaye Diarra"),
        "{found:?}"
    );
}

#[test]
fn offsets_are_chars_with_nbsp_and_apostrophes() {
    let text = "«\u{a0}Nous resterons\u{a0}», a déclaré l’émir du Qatar à Niamey.";
    let e = ents(text);
    check_offsets(text, &e);
    let niamey = e.iter().find(|e| e.text == "Niamey").expect("Niamey");
    assert_eq!(
        niamey.start,
        text.chars()
            .position(|c| c == 'N')
            .map(|_| text.chars().count() - 7)
            .unwrap()
    );
    assert!(
        e.iter()
            .any(|e| e.text == "Qatar" && e.label == EntityLabel::LOC)
    );
}

#[test]
fn empty_and_short_texts() {
    let e = annotate("", None);
    assert_eq!(e.lang, "und");
    assert!(e.entities.is_empty());
    let e = annotate("Mali", Some("fr"));
    assert_eq!(e.lang, "fr");
    assert_eq!(e.entities.len(), 1);
}

#[test]
fn config_defaults_and_rejects_unknown_fields() {
    let c: EnrichConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(c.max_text_chars, 2_000_000);
    assert!(serde_json::from_str::<EnrichConfig>(r#"{"max_chars":1}"#).is_err());
}

#[tokio::test]
async fn stage_enriches_a_parsed_article() {
    let article = Article {
        url: "http://news.abamako.com/h/300961.html".into(),
        lang_hint: Some("fr".into()),
        body_text: SEED.into(),
        ..Article::default()
    };
    let input = Envelope::new(
        "abc",
        "trace",
        Parsed {
            article: article.clone(),
        },
    );
    let stage = Enrich::new(EnrichConfig {
        max_text_chars: 200,
    });
    let out = stage.handle(input).await.unwrap();
    assert_eq!(out.len(), 1);
    let out = &out[0];
    assert_eq!(
        (
            out.kind.as_str(),
            out.article_id.as_str(),
            out.trace_id.as_str()
        ),
        ("enriched", "abc", "trace")
    );
    assert_eq!(out.data.article, article);
    assert_eq!(out.data.enrichment.lang, "fr");
    // Only the first 200 characters were annotated.
    assert!(out.data.enrichment.entities.iter().all(|e| e.end <= 200));
    assert!(!out.data.enrichment.entities.is_empty());
}

#[test]
fn unknown_dateline_is_a_place_but_an_acronym_is_an_organisation() {
    let found = triples("NIONO, 3 juin (AMAP) – Les producteurs de riz ont rencontré l’ORTM.");
    assert!(has(&found, EntityLabel::LOC, "NIONO", "Niono"), "{found:?}");
    assert!(has(&found, EntityLabel::ORG, "AMAP", "AMAP"));
    assert!(
        has(&found, EntityLabel::ORG, "ORTM", "ORTM"),
        "elided article outside the span"
    );
}

#[test]
fn first_names_that_look_like_demonyms_and_name_particles() {
    let found = triples(
        "Le juge, Philippe Darlan, a tranché. Corinne de Vallois et Ursula van der Meeren ont réagi, comme Karim al-Hadri.",
    );
    assert!(
        has(
            &found,
            EntityLabel::PER,
            "Philippe Darlan",
            "Philippe Darlan"
        ),
        "{found:?}"
    );
    assert!(
        has(
            &found,
            EntityLabel::PER,
            "Corinne de Vallois",
            "Corinne de Vallois"
        ),
        "{found:?}"
    );
    assert!(
        has(
            &found,
            EntityLabel::PER,
            "Ursula van der Meeren",
            "Ursula van der Meeren"
        ),
        "{found:?}"
    );
    assert!(
        has(&found, EntityLabel::PER, "Karim al-Hadri", "Karim al-Hadri"),
        "{found:?}"
    );
    // A demonym before a name with an article stays out of the name.
    let found = triples("La Malienne Awa Touré a gagné.");
    assert!(
        has(&found, EntityLabel::PER, "Awa Touré", "Awa Touré"),
        "{found:?}"
    );
}

#[test]
fn portfolio_then_holder_and_middle_or_first_word_of_a_full_name() {
    let found = triples(
        "Le ministre de la Santé Fatoumata Diallo Keïta est arrivé. Plus tard, Diallo a parlé.",
    );
    assert!(
        has(
            &found,
            EntityLabel::PER,
            "Fatoumata Diallo Keïta",
            "Fatoumata Diallo Keïta"
        ),
        "{found:?}"
    );
    assert!(
        has(&found, EntityLabel::PER, "Diallo", "Fatoumata Diallo Keïta"),
        "{found:?}"
    );
}

#[test]
fn surname_taken_for_a_town_and_civil_names() {
    // `Hassan` is also a large town in the place table.
    let found = triples("President Amina Sefu Hassan won. Hassan said she was proud.");
    assert!(
        has(&found, EntityLabel::PER, "Hassan", "Amina Sefu Hassan"),
        "{found:?}"
    );
    let found = triples(
        "Kofi Star sang. The singer, whose real name is Kofi Mensah Boateng, waved. Boateng left.",
    );
    assert!(
        has(&found, EntityLabel::PER, "Kofi Mensah Boateng", "Kofi Star"),
        "{found:?}"
    );
    assert!(
        has(&found, EntityLabel::PER, "Boateng", "Kofi Star"),
        "{found:?}"
    );
}

#[test]
fn hyphenated_acronym_in_brackets() {
    let found = triples(
        "Le Rassemblement des patriotes du Sahel (RPS-UN) a voté. Le RPS a ensuite quitté la salle.",
    );
    assert!(
        found.iter().any(|(l, t, c)| *l == EntityLabel::ORG
            && t == "RPS-UN"
            && c.starts_with("Rassemblement")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(l, t, c)| *l == EntityLabel::ORG
            && t == "RPS"
            && c.starts_with("Rassemblement")),
        "{found:?}"
    );
}
