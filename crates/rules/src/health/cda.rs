//! The CDA R2 header and body, as the CI-SIS structures them (volet Structuration minimale):
//! document code and title, dates, the patient (`recordTarget`: INS id, birth and used names,
//! given names, birth date, sex), author (as one label, and for a person the parts of their name:
//! a PDF may write it "Prénom NOM" or "NOM Prénom"), custodian, the act date
//! (`documentationOf/serviceEvent/effectiveTime/low`), and the body: `nonXMLBody` (N1, an
//! embedded PDF) or `structuredBody` (N3, sections with their narrative).
//!
//! Read with `roxmltree`, which refuses DTDs: no entity can be expanded.

use base64::Engine;
use roxmltree::{Document, Node};

use crate::ins;

/// The HL7 v3 namespace of CDA R2.
pub const HL7: &str = "urn:hl7-org:v3";

/// Largest CDA accepted (a N1 carries its PDF in base64).
pub const MAX_CDA: usize = 40 * 1024 * 1024;

/// The patient of a CDA header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Patient {
    /// `patientRole/id`: (root, extension).
    pub ids: Vec<(String, String)>,
    /// `family[@qualifier='BR']`: nom de naissance.
    pub birth_name: Option<String>,
    /// `family[@qualifier='SP']` or an unqualified `family`: nom utilisé.
    pub used_name: Option<String>,
    /// `given` without qualifier or `BR`, in order: prénoms de naissance.
    pub given: Vec<String>,
    /// `given[@qualifier='CL']`: prénom utilisé.
    pub called: Option<String>,
    /// `birthTime@value` (YYYYMMDD…).
    pub birth_time: Option<String>,
    /// `administrativeGenderCode@code` (M, F, U).
    pub sex: Option<String>,
}

impl Patient {
    /// The INS (matricule, OID) among the ids, if any.
    pub fn ins(&self) -> Option<(&str, &str)> {
        self.ids
            .iter()
            .find(|(root, _)| ins::is_ins_oid(root))
            .map(|(root, ext)| (ext.as_str(), root.as_str()))
    }

    /// The name the subject and PDF names use: birth name, else used name.
    pub fn name(&self) -> Option<&str> {
        self.birth_name.as_deref().or(self.used_name.as_deref())
    }

    /// The first given name.
    pub fn first_given(&self) -> Option<&str> {
        self.given
            .first()
            .map(String::as_str)
            .or(self.called.as_deref())
    }

    /// Birth date as `DD/MM/YYYY`.
    pub fn birth_date_fr(&self) -> Option<String> {
        let t = self.birth_time.as_deref()?;
        (t.len() >= 8 && t[..8].bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("{}/{}/{}", &t[6..8], &t[4..6], &t[..4]))
    }

    /// Whether the header carries a qualified INS (référentiel, ECO.2.4.2): an INS id (OID of the
    /// INS, valid matricule) and the four traits: birth name, first given name, birth date, sex.
    /// Returns what is missing otherwise.
    pub fn qualified(&self) -> Result<(), Vec<String>> {
        let mut missing = Vec::new();
        match self.ins() {
            None => missing.push("INS (matricule et OID 1.2.250.1.213.1.4.x)".to_owned()),
            Some((matricule, _)) => {
                if let Err(e) = ins::check_matricule(matricule) {
                    missing.push(format!("INS valide (« {matricule} » : {e})"));
                }
            }
        }
        if self
            .birth_name
            .as_deref()
            .is_none_or(|n| n.trim().is_empty())
        {
            missing.push("nom de naissance".into());
        }
        if self.given.first().is_none_or(|n| n.trim().is_empty()) {
            missing.push("premier prénom".into());
        }
        if self.birth_time.as_deref().is_none_or(|t| t.len() < 8) {
            missing.push("date de naissance".into());
        }
        if !matches!(self.sex.as_deref(), Some("M" | "F" | "U")) {
            missing.push("sexe".into());
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing)
        }
    }
}

/// The parts of a person's HL7 `name` (`prefix`, `given`, `family`), each in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonName {
    /// Titles (`prefix`: "Dr", "Pr"…).
    pub prefixes: Vec<String>,
    /// Given names.
    pub given: Vec<String>,
    /// Family names.
    pub family: Vec<String>,
}

impl PersonName {
    /// The ways a document may write the name without its title: given names then family
    /// name ("Jean DUPONT"), family name then given names ("DUPONT Jean"), with every given name
    /// or the first only; the family name alone when there is no given name.
    pub fn forms(&self) -> Vec<String> {
        let family = self.family.join(" ");
        let mut givens = vec![self.given.join(" ")];
        givens.extend(self.given.first().cloned());
        givens.dedup();
        let mut forms = Vec::new();
        for given in givens.iter().filter(|g| !g.is_empty()) {
            for form in [format!("{given} {family}"), format!("{family} {given}")] {
                let form = form.trim().to_owned();
                if !form.is_empty() && !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        if forms.is_empty() && !family.is_empty() {
            forms.push(family);
        }
        forms
    }
}

/// A section of a structured body, flattened (nested sections follow their parent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Its title.
    pub title: Option<String>,
    /// The text of its narrative block (`section/text`), white space collapsed.
    pub narrative: String,
}

/// The body of a CDA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// `nonXMLBody`: level 1, the document as an embedded file.
    NonXml {
        /// `text@mediaType`.
        media_type: Option<String>,
        /// The decoded content when `representation="B64"` decodes.
        content: Option<Vec<u8>>,
    },
    /// `structuredBody`: level 3 (or 2), sections.
    Structured(Vec<Section>),
    /// Neither.
    Missing,
}

/// What a CDA says that the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cda {
    /// `code@code`.
    pub code: Option<String>,
    /// `code@displayName`.
    pub display_name: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `effectiveTime@value`: creation date and time.
    pub effective_time: Option<String>,
    /// `documentationOf/serviceEvent/effectiveTime/low@value`: date of the act.
    pub service_start: Option<String>,
    /// The patient.
    pub patient: Patient,
    /// The first author (`assignedPerson` name as "Prefix Given FAMILY", else
    /// `representedOrganization` name).
    pub author: Option<String>,
    /// The first author's name parts, when it is a person whose name has `given` or `family`.
    pub author_person: Option<PersonName>,
    /// `custodian/.../representedCustodianOrganization/name`.
    pub custodian: Option<String>,
    /// The body.
    pub body: Body,
}

/// Why a file is not a CDA R2 document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdaError {
    /// Over [`MAX_CDA`].
    #[error("document de {0} octets, au-delà de la limite")]
    TooLarge(usize),
    /// Not well-formed XML, or XML with a DTD.
    #[error("XML invalide : {0}")]
    Xml(String),
    /// Not a `ClinicalDocument` in the HL7 v3 namespace.
    #[error("l'élément racine est « {0} » et non ClinicalDocument (urn:hl7-org:v3)")]
    NotCda(String),
}

fn is(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(HL7)
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| is(n, name))
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(move |n| is(n, name))
}

fn path<'a, 'i>(node: Node<'a, 'i>, names: &[&str]) -> Option<Node<'a, 'i>> {
    names.iter().try_fold(node, |n, name| child(n, name))
}

fn attr(node: Option<Node<'_, '_>>, name: &str) -> Option<String> {
    node.and_then(|n| n.attribute(name))
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// All the text under a node, white space collapsed.
pub(crate) fn text_of(node: Node<'_, '_>) -> String {
    let mut parts = Vec::new();
    for d in node.descendants() {
        if d.is_text()
            && let Some(t) = d.text()
        {
            parts.push(t);
        }
    }
    crate::text::collapse(&parts.join(" "))
}

fn own_text(node: Option<Node<'_, '_>>) -> Option<String> {
    node.map(text_of).filter(|t| !t.is_empty())
}

/// The non-empty texts of a `name`'s children of one kind (`prefix`, `given`, `family`).
fn name_parts(name: Node<'_, '_>, kind: &'static str) -> Vec<String> {
    children(name, kind)
        .map(text_of)
        .filter(|t| !t.is_empty())
        .collect()
}

/// The parts of an HL7 `name`, when it has a given or family name.
fn person_parts(name: Node<'_, '_>) -> Option<PersonName> {
    let parts = PersonName {
        prefixes: name_parts(name, "prefix"),
        given: name_parts(name, "given"),
        family: name_parts(name, "family"),
    };
    (!parts.given.is_empty() || !parts.family.is_empty()).then_some(parts)
}

/// "Prefix Given FAMILY" from an HL7 `name`.
fn person_name(name: Node<'_, '_>) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for kind in ["prefix", "given", "family"] {
        parts.extend(name_parts(name, kind));
    }
    if parts.is_empty() {
        own_text(Some(name))
    } else {
        Some(parts.join(" "))
    }
}

fn patient(role: Option<Node<'_, '_>>) -> Patient {
    let mut p = Patient::default();
    let Some(role) = role else {
        return p;
    };
    p.ids = children(role, "id")
        .map(|id| {
            (
                id.attribute("root").unwrap_or_default().trim().to_owned(),
                id.attribute("extension")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
            )
        })
        .collect();
    let Some(person) = child(role, "patient") else {
        return p;
    };
    for name in children(person, "name") {
        for family in children(name, "family") {
            let value = text_of(family);
            if value.is_empty() {
                continue;
            }
            match family.attribute("qualifier") {
                Some("BR") => p.birth_name = p.birth_name.or(Some(value)),
                Some("SP") | None => p.used_name = p.used_name.or(Some(value)),
                Some(_) => {}
            }
        }
        for given in children(name, "given") {
            let value = text_of(given);
            if value.is_empty() {
                continue;
            }
            match given.attribute("qualifier") {
                Some("CL") => p.called = p.called.or(Some(value)),
                _ => p.given.push(value),
            }
        }
    }
    p.birth_time = attr(child(person, "birthTime"), "value");
    p.sex = attr(child(person, "administrativeGenderCode"), "code");
    p
}

fn sections(parent: Node<'_, '_>, out: &mut Vec<Section>, depth: usize) {
    if depth > 16 {
        return;
    }
    for component in children(parent, "component") {
        if let Some(section) = child(component, "section") {
            out.push(Section {
                title: own_text(child(section, "title")),
                narrative: child(section, "text").map(text_of).unwrap_or_default(),
            });
            sections(section, out, depth + 1);
        }
    }
}

fn body(doc: Node<'_, '_>) -> Body {
    let Some(component) = child(doc, "component") else {
        return Body::Missing;
    };
    if let Some(non_xml) = child(component, "nonXMLBody") {
        let text = child(non_xml, "text");
        let media_type = attr(text, "mediaType");
        let content = text.and_then(|t| {
            if t.attribute("representation") != Some("B64") {
                return None;
            }
            let b64: String = text_of(t).chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        });
        return Body::NonXml {
            media_type,
            content,
        };
    }
    if let Some(structured) = child(component, "structuredBody") {
        let mut out = Vec::new();
        sections(structured, &mut out, 0);
        return Body::Structured(out);
    }
    Body::Missing
}

/// Reads a CDA R2 document.
pub fn parse(bytes: &[u8]) -> Result<Cda, CdaError> {
    if bytes.len() > MAX_CDA {
        return Err(CdaError::TooLarge(bytes.len()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|e| CdaError::Xml(format!("le document n'est pas en UTF-8 ({e})")))?;
    let xml = Document::parse(text).map_err(|e| CdaError::Xml(e.to_string()))?;
    let root = xml.root_element();
    if !is(&root, "ClinicalDocument") {
        return Err(CdaError::NotCda(root.tag_name().name().to_owned()));
    }
    let code = child(root, "code");
    let assigned = child(root, "author").and_then(|a| child(a, "assignedAuthor"));
    let person = assigned
        .and_then(|a| child(a, "assignedPerson"))
        .and_then(|p| child(p, "name"));
    let author = assigned.and_then(|a| {
        person
            .and_then(person_name)
            .or_else(|| own_text(path(a, &["representedOrganization", "name"])))
    });
    let author_person = person.and_then(person_parts);
    Ok(Cda {
        code: attr(code, "code"),
        display_name: attr(code, "displayName"),
        title: own_text(child(root, "title")),
        effective_time: attr(child(root, "effectiveTime"), "value"),
        service_start: attr(
            path(
                root,
                &["documentationOf", "serviceEvent", "effectiveTime", "low"],
            ),
            "value",
        ),
        patient: patient(path(root, &["recordTarget", "patientRole"])),
        author,
        author_person,
        custodian: own_text(path(
            root,
            &[
                "custodian",
                "assignedCustodian",
                "representedCustodianOrganization",
                "name",
            ],
        )),
        body: body(root),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const N3: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <code code="11488-4" displayName="Compte rendu de consultation" codeSystem="2.16.840.1.113883.6.1"/>
  <title>CR de consultation</title>
  <effectiveTime value="20261103101500+0100"/>
  <recordTarget><patientRole>
    <id root="1.2.250.1.213.1.4.10" extension="248092A12345653"/>
    <id root="1.2.250.1.71.4.2.1" extension="IPP-1"/>
    <patient>
      <name><given>Zoé</given><given>Marie</given><given qualifier="CL">Zozo</given>
        <family qualifier="BR">Lœuvre</family><family qualifier="SP">Martin</family></name>
      <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/>
      <birthTime value="19480902"/>
    </patient></patientRole></recordTarget>
  <author><assignedAuthor><assignedPerson><name><prefix>Dr</prefix><given>Jean</given><family>DUPONT</family></name></assignedPerson></assignedAuthor></author>
  <custodian><assignedCustodian><representedCustodianOrganization><name>Hôpital A</name></representedCustodianOrganization></assignedCustodian></custodian>
  <documentationOf><serviceEvent><effectiveTime><low value="20261102"/></effectiveTime></serviceEvent></documentationOf>
  <component><structuredBody>
    <component><section><title>Motif</title><text>Douleur <content>thoracique</content>.</text>
      <component><section><title>Détail</title><text><list><item>depuis 2 jours</item></list></text></section></component>
    </section></component>
  </structuredBody></component>
</ClinicalDocument>"#;

    #[test]
    fn header_and_sections() {
        let cda = parse(N3.as_bytes()).expect("parse");
        assert_eq!(cda.code.as_deref(), Some("11488-4"));
        assert_eq!(
            cda.display_name.as_deref(),
            Some("Compte rendu de consultation")
        );
        assert_eq!(cda.title.as_deref(), Some("CR de consultation"));
        assert_eq!(cda.service_start.as_deref(), Some("20261102"));
        assert_eq!(cda.author.as_deref(), Some("Dr Jean DUPONT"));
        let person = cda.author_person.as_ref().expect("author's name parts");
        assert_eq!(person.prefixes, vec!["Dr"]);
        assert_eq!(person.forms(), vec!["Jean DUPONT", "DUPONT Jean"]);
        assert_eq!(cda.custodian.as_deref(), Some("Hôpital A"));
        let p = &cda.patient;
        assert_eq!(p.ins(), Some(("248092A12345653", "1.2.250.1.213.1.4.10")));
        assert_eq!(p.name(), Some("Lœuvre"));
        assert_eq!(p.first_given(), Some("Zoé"));
        assert_eq!(p.called.as_deref(), Some("Zozo"));
        assert_eq!(p.birth_date_fr().as_deref(), Some("02/09/1948"));
        match &cda.body {
            Body::Structured(s) => {
                assert_eq!(s.len(), 2);
                assert_eq!(s[0].narrative, "Douleur thoracique .");
                assert_eq!(s[1].title.as_deref(), Some("Détail"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn author_name_forms() {
        let name = PersonName {
            prefixes: Vec::new(),
            given: vec!["Jean".into(), "Pierre".into()],
            family: vec!["DUPONT".into()],
        };
        assert_eq!(
            name.forms(),
            vec![
                "Jean Pierre DUPONT",
                "DUPONT Jean Pierre",
                "Jean DUPONT",
                "DUPONT Jean"
            ]
        );
        let family_only = PersonName {
            family: vec!["DUPONT".into()],
            ..PersonName::default()
        };
        assert_eq!(family_only.forms(), vec!["DUPONT"]);
        let organisation = N3.replace(
            "<assignedPerson><name><prefix>Dr</prefix><given>Jean</given><family>DUPONT</family></name></assignedPerson>",
            "<representedOrganization><name>Laboratoire B</name></representedOrganization>",
        );
        let cda = parse(organisation.as_bytes()).expect("parse");
        assert_eq!(cda.author.as_deref(), Some("Laboratoire B"));
        assert_eq!(cda.author_person, None);
    }

    #[test]
    fn refusals() {
        assert!(matches!(parse(b"<x/>"), Err(CdaError::NotCda(_))));
        assert!(matches!(
            parse(b"<ClinicalDocument>"),
            Err(CdaError::Xml(_))
        ));
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><ClinicalDocument xmlns="urn:hl7-org:v3">&lol2;</ClinicalDocument>"#;
        assert!(
            matches!(parse(bomb.as_bytes()), Err(CdaError::Xml(_))),
            "DTD refused"
        );
        assert!(matches!(parse(b"\xff\xfe<"), Err(CdaError::Xml(_))));
    }
}
