//! `IHE_XDM/SUBSET01/METADATA.XML`: the ebRIM 3.0 submission (IHE ITI XDM) describing the
//! documents of the archive: the patient (`patientId`, CX `matricule^^^&OID&ISO^NH`) and, for each
//! document entry, its file (`URI` slot), type (`typeCode` display name), act date
//! (`serviceStartTime`) and MIME type.
//!
//! Elements are matched by local name (the namespaces vary between generators); DTDs are refused.

use roxmltree::{Document, Node};

/// `XDSDocumentEntry.patientId`.
pub const DOCUMENT_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
/// `XDSSubmissionSet.patientId`.
pub const SUBMISSION_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
/// `XDSDocumentEntry.typeCode`.
pub const TYPE_CODE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";

/// One document entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentEntry {
    /// The `URI` slot: the file name, relative to the submission set folder.
    pub uri: Option<String>,
    /// `mimeType`.
    pub mime_type: Option<String>,
    /// The `patientId` external identifier.
    pub patient_id: Option<String>,
    /// `typeCode` code.
    pub type_code: Option<String>,
    /// `typeCode` display name.
    pub type_display_name: Option<String>,
    /// `serviceStartTime`.
    pub service_start: Option<String>,
}

/// What METADATA.XML says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The submission set's `patientId`.
    pub patient_id: Option<String>,
    /// Document entries (`ExtrinsicObject`).
    pub documents: Vec<DocumentEntry>,
}

fn local<'a, 'i>(node: Node<'a, 'i>, name: &str) -> impl Iterator<Item = Node<'a, 'i>> {
    let name = name.to_owned();
    node.descendants()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn slot(node: Node<'_, '_>, name: &str) -> Option<String> {
    node.children()
        .filter(|n| n.is_element() && n.tag_name().name() == "Slot")
        .find(|s| s.attribute("name") == Some(name))
        .and_then(|s| local(s, "Value").next())
        .and_then(|v| v.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}

fn external_id(node: Node<'_, '_>, scheme: &str) -> Option<String> {
    node.children()
        .filter(|n| n.is_element() && n.tag_name().name() == "ExternalIdentifier")
        .find(|e| e.attribute("identificationScheme") == Some(scheme))
        .and_then(|e| e.attribute("value"))
        .map(|v| v.trim().to_owned())
}

/// Reads METADATA.XML.
pub fn parse(bytes: &[u8]) -> Result<Metadata, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("pas en UTF-8 ({e})"))?;
    let xml = Document::parse(text).map_err(|e| e.to_string())?;
    let root = xml.root_element();
    let mut metadata = Metadata::default();
    for package in local(root, "RegistryPackage") {
        if let Some(id) = external_id(package, SUBMISSION_PATIENT_ID) {
            metadata.patient_id = Some(id);
        }
    }
    for object in local(root, "ExtrinsicObject") {
        let type_code = object
            .children()
            .filter(|n| n.is_element() && n.tag_name().name() == "Classification")
            .find(|c| c.attribute("classificationScheme") == Some(TYPE_CODE));
        metadata.documents.push(DocumentEntry {
            uri: slot(object, "URI"),
            mime_type: object.attribute("mimeType").map(str::to_owned),
            patient_id: external_id(object, DOCUMENT_PATIENT_ID),
            type_code: type_code
                .and_then(|c| c.attribute("nodeRepresentation"))
                .map(str::to_owned),
            type_display_name: type_code
                .and_then(|c| local(c, "LocalizedString").next())
                .and_then(|l| l.attribute("value"))
                .map(|v| v.trim().to_owned()),
            service_start: slot(object, "serviceStartTime"),
        });
    }
    if metadata.documents.is_empty() && metadata.patient_id.is_none() {
        return Err(
            "aucun ExtrinsicObject ni RegistryPackage : ce n'est pas une soumission ebRIM".into(),
        );
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries() {
        let xml = format!(
            r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList>
<rim:ExtrinsicObject id="Doc1" mimeType="text/xml">
  <rim:Slot name="URI"><rim:ValueList><rim:Value>DOC0001.XML</rim:Value></rim:ValueList></rim:Slot>
  <rim:Slot name="serviceStartTime"><rim:ValueList><rim:Value>20261102</rim:Value></rim:ValueList></rim:Slot>
  <rim:Classification classificationScheme="{TYPE_CODE}" nodeRepresentation="11488-4"><rim:Name><rim:LocalizedString value="CR de consultation"/></rim:Name></rim:Classification>
  <rim:ExternalIdentifier identificationScheme="{DOCUMENT_PATIENT_ID}" value="248092A12345653^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"/>
</rim:ExtrinsicObject>
<rim:RegistryPackage id="SS"><rim:ExternalIdentifier identificationScheme="{SUBMISSION_PATIENT_ID}" value="248092A12345653^^^&amp;1.2.250.1.213.1.4.10&amp;ISO^NH"/></rim:RegistryPackage>
</rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#
        );
        let m = parse(xml.as_bytes()).expect("parse");
        assert_eq!(m.documents.len(), 1);
        let d = &m.documents[0];
        assert_eq!(d.uri.as_deref(), Some("DOC0001.XML"));
        assert_eq!(d.type_display_name.as_deref(), Some("CR de consultation"));
        assert_eq!(d.type_code.as_deref(), Some("11488-4"));
        assert_eq!(d.service_start.as_deref(), Some("20261102"));
        assert!(
            d.patient_id
                .as_deref()
                .is_some_and(|p| p.starts_with("248092A12345653^^^&1.2"))
        );
        assert_eq!(m.patient_id, d.patient_id);
        assert!(parse(b"<x/>").is_err());
        assert!(parse(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>").is_err());
    }
}
