# language: fr
Fonctionnalité: Interface utilisateur — messages des usagers, préfixe XDM et accusés de lecture (§4.1)
  Le harnais dépose des messages dans la BAL du système, puis lui demande d'afficher sa boîte de
  réception (action « list_inbox ») ou un message (action « open »).
  ECO.3.1.1 : les courriels provenant d'un usager sont distingués de ceux d'un professionnel.
  ECO.3.1.2 : pour un courriel d'usager « Prénom Nom <INS@patient.mssante.fr> », le système
  affiche le nom de naissance, le prénom et l'INS de l'usager.
  ECO.3.1.3 : le préfixe « XDM/1.0/DDM+ » de l'objet est masqué à l'affichage.
  ECO.3.1.5 : écrire à un usager construit son adresse « INS@patient.mssante.fr » sur son INS
  qualifiée.
  ECO.3.1.6 : à l'affichage d'un courriel qui demande un accusé de lecture
  (Disposition-Notification-To), le système envoie un accusé de lecture RFC 8098 de type
  « displayed ».

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.3.1.1 @PER_ORG @driver
  Scénario: BAL personnelle — les messages des usagers distingués de ceux des professionnels
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-1-1-usager@harnais.invalid" d'un usager déposé dans sa boîte de réception
    Et un message "eco-3-1-1-pro@harnais.invalid" déposé dans sa boîte de réception
    Quand le système affiche sa boîte de réception
    Alors la liste distingue le message de l'usager de celui du professionnel

  @ECO.3.1.2 @PER_ORG @driver
  Scénario: BAL personnelle — nom de naissance, prénom et INS de l'usager affichés
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-1-2@harnais.invalid" d'un usager déposé dans sa boîte de réception
    Quand le système affiche sa boîte de réception
    Alors la liste montre le nom de naissance, le prénom et l'INS de l'usager

  @ECO.3.1.3 @PER_ORG @driver
  Scénario: BAL personnelle — le préfixe XDM/1.0/DDM+ masqué dans l'objet affiché
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-1-3@harnais.invalid" porteur de documents déposé dans sa boîte de réception
    Quand le système affiche sa boîte de réception
    Alors la liste masque le préfixe XDM/1.0/DDM+ de l'objet

  @ECO.3.1.6 @PER_ORG @driver
  Scénario: BAL personnelle — un accusé de lecture RFC 8098 à l'affichage d'un message qui le demande
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-1-6@harnais.invalid" demandant un accusé de lecture déposé dans sa boîte de réception
    Quand le système affiche le message "eco-3-1-6@harnais.invalid"
    Alors un accusé de lecture RFC 8098 « displayed » est envoyé à l'expéditeur

  @ECO.3.1.5 @PER_ORG @driver
  Scénario: BAL personnelle — écrire à un usager construit l'adresse sur son INS qualifiée
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système écrit à l'usager "278117511504249"
    Alors le message est adressé à l'INS qualifiée de l'usager

  @ECO.3.1.4 @PER_ORG @interactive
  Scénario: BAL personnelle — la rédaction propose une recherche dans l'Annuaire Santé
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Alors le testeur atteste : "à la rédaction d'un courriel, le système propose de rechercher le destinataire dans l'Annuaire Santé (nom, profession, lieu d'exercice)"
