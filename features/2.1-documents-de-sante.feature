# language: fr
Fonctionnalité: Documents de santé — archive IHE_XDM, objet, PDF/A-1, noms des PDF, X-MSS-CODECDA et X-MSS-INS (§3.1, §3.8)
  Le système reçoit les documents CDA R2 d'un usager comme un utilisateur les joindrait, et
  compose lui-même le message : archive IHE_XDM.ZIP, un PDF/A-1 par document, l'objet, les
  entêtes X-MSS-CODECDA et X-MSS-INS calculés à partir des documents.
  ECO.2.1.1 : un courriel qui transmet des documents de santé concerne un seul usager, joint une
  archive IHE_XDM (METADATA.XML, documents CDA R2 N1 ou N3) et un PDF par document.
  ECO.2.1.2 : le système destinataire identifie l'usager d'un courriel reçu par le patientId
  (matricule INS) de METADATA.XML, non par l'objet.
  ECO.2.1.3 : l'objet suit « XDM/1.0/DDM+<libellé> <NOM> <prenom> <date de naissance> », libellé
  tronqué à 40 caractères pour un document, « N documents » pour plusieurs.
  ECO.2.1.5 : chaque PDF est un PDF/A-1 ; pour un CDA N3 il reprend l'en-tête et la narration de
  chaque section ; pour un CDA N1 c'est le PDF embarqué.
  ECO.2.1.6 : chaque PDF est nommé <date de l'acte>_<type>_<NOM>_<prénom>[_<dossier>].pdf.
  ECO.2.4.1 : X-MSS-CODECDA est présent si et seulement si une archive IHE_XDM est jointe, avec
  les codes des documents CDA.
  ECO.2.4.2 : X-MSS-INS est présent si et seulement si une archive IHE_XDM est jointe : O pour
  une identité qualifiée (INS, nom de naissance, premier prénom, date de naissance, sexe), N sinon.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.2.1.1 @PER_ORG @automated
  Scénario: BAL personnelle — un seul usager, l'archive IHE_XDM et un PDF par document
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message porteur de documents concerne un seul usager et joint l'archive IHE_XDM et un PDF par document

  @ECO.2.1.1 @APP @automated
  Scénario: BAL applicative — un seul usager, l'archive IHE_XDM et un PDF par document
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message porteur de documents concerne un seul usager et joint l'archive IHE_XDM et un PDF par document

  @ECO.2.1.3 @PER_ORG @automated
  Scénario: BAL personnelle — l'objet XDM/1.0/DDM+ d'un et de plusieurs documents
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Alors l'objet de chaque message porteur de documents suit le format XDM/1.0/DDM+

  @ECO.2.1.3 @APP @automated
  Scénario: BAL applicative — l'objet XDM/1.0/DDM+ d'un et de plusieurs documents
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Et le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Alors l'objet de chaque message porteur de documents suit le format XDM/1.0/DDM+

  @ECO.2.1.5 @PER_ORG @automated
  Scénario: BAL personnelle — un PDF/A-1 fidèle par document, N3 rendu et N1 embarqué
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque PDF joint est un PDF/A-1 fidèle à son document

  @ECO.2.1.5 @APP @automated
  Scénario: BAL applicative — un PDF/A-1 fidèle par document, N3 rendu et N1 embarqué
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque PDF joint est un PDF/A-1 fidèle à son document

  @ECO.2.1.6 @PER_ORG @automated
  Scénario: BAL personnelle — les PDF nommés d'après l'en-tête CDA
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque PDF joint est nommé date_type_NOM_prénom

  @ECO.2.1.6 @APP @automated
  Scénario: BAL applicative — les PDF nommés d'après l'en-tête CDA
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque PDF joint est nommé date_type_NOM_prénom

  @ECO.2.4.1 @PER_ORG @automated
  Scénario: BAL personnelle — X-MSS-CODECDA avec les codes des documents, et seulement avec eux
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte X-MSS-CODECDA si et seulement s'il joint une archive IHE_XDM, avec les codes de ses documents

  @ECO.2.4.1 @APP @automated
  Scénario: BAL applicative — X-MSS-CODECDA avec les codes des documents, et seulement avec eux
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte X-MSS-CODECDA si et seulement s'il joint une archive IHE_XDM, avec les codes de ses documents

  @ECO.2.4.2 @PER_ORG @automated
  Scénario: BAL personnelle — X-MSS-INS à O pour une identité qualifiée, à N sans nom de naissance
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie les documents de santé "compte rendu N3 sans nom de naissance" à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte X-MSS-INS si et seulement s'il joint une archive IHE_XDM, à O seulement pour une identité qualifiée

  @ECO.2.4.2 @APP @automated
  Scénario: BAL applicative — X-MSS-INS à O pour une identité qualifiée, à N sans nom de naissance
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie les documents de santé "compte rendu N3 et lettre N1" à "marie.martin@operateur-fictif.mssante.fr"
    Et le système envoie les documents de santé "compte rendu N3 sans nom de naissance" à "marie.martin@operateur-fictif.mssante.fr"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte X-MSS-INS si et seulement s'il joint une archive IHE_XDM, à O seulement pour une identité qualifiée

  @ECO.2.1.2 @PER_ORG @driver
  Scénario: BAL personnelle — des documents reçus classés sous l'usager du patientId de METADATA.XML
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-2-1-2-per@harnais.invalid" porteur des documents d'un usager sous l'objet d'un autre déposé dans sa boîte de réception
    Quand le système affiche sa boîte de réception
    Alors le message est classé sous l'usager du patientId de METADATA.XML

  @ECO.2.1.2 @APP @driver
  Scénario: BAL applicative — des documents reçus classés sous l'usager du patientId de METADATA.XML
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-2-1-2-app@harnais.invalid" porteur des documents d'un usager sous l'objet d'un autre déposé dans sa boîte de réception
    Quand le système affiche sa boîte de réception
    Alors le message est classé sous l'usager du patientId de METADATA.XML
