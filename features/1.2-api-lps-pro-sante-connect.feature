# language: fr
Fonctionnalité: API LPS — BAL personnelles et organisationnelles, Pro Santé Connect (§2.1.1.3)
  ECO.1.2.1 : après STARTTLS, « AUTHENTICATE XOAUTH2 pour IMAP ou AUTH XOAUTH2 pour SMTP avec la
  chaîne de caractères encodée en base64 » : "user=" + adresse de la BAL + "^Aauth=Bearer " +
  Access Token PSC + "^A^A" ; attendre la validation avant d'envoyer les commandes SMTP ou IMAP.
  Le jeton est émis par le Pro Santé Connect fictif de l'opérateur pour un professionnel habilité
  sur la BAL.

  Lecture retenue : « user= » est la BAL configurée (pas seulement une BAL que le professionnel
  peut ouvrir) ; une authentification tentée en clair échoue même refusée ; les formes avec
  réponse initiale et avec continuation sont acceptées ; SMTP et IMAP doivent tous deux montrer
  une authentification acceptée.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.1.2.1 @PER_ORG @automated
  Scénario: BAL personnelle — XOAUTH2 avec l'Access Token PSC, sur SMTP et sur IMAP
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-1-2-1-per@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors chaque authentification a utilisé XOAUTH2 au format exact avec le jeton PSC de la BAL, après STARTTLS et avant toute autre commande

  @ECO.1.2.1 @PER_ORG @automated
  Scénario: BAL organisationnelle — XOAUTH2 avec le jeton d'un professionnel habilité
    Étant donné le système configuré pour la BAL "cardiologie@operateur-fictif.mssante.fr"
    Et un message "eco-1-2-1-org@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors chaque authentification a utilisé XOAUTH2 au format exact avec le jeton PSC de la BAL, après STARTTLS et avant toute autre commande
