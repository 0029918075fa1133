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

  ECO.1.2.3 : « Le système DOIT traiter les erreurs techniques rencontrées lors du processus de
  connexion et d'authentification SMTP/IMAP de sorte qu'elles ne perturbent pas les autres
  fonctions de l'application (hors messagerie). » Vu du réseau : l'opérateur refuse une
  authentification, le système signale l'échec de cette action, continue de répondre, et son
  action suivante aboutit ; en session interactive, le testeur atteste le reste.
  ECO.1.2.5 : « l'Access Token PSC au format JWT ne doit pas être stocké de façon permanente sur
  le poste de travail du professionnel. » Chaque jeton émis par le Pro Santé Connect fictif
  pendant le scénario sert de témoin : après la fin de la session et le redémarrage du système,
  aucun ne doit se trouver dans son dossier de données (en clair ou en base64) ; le testeur
  atteste le reste.
  ECO.1.2.6 : « Dès que le Refresh Token PSC de l'utilisateur connecté devient invalide (durée
  de vie maximale atteinte, déconnexion PSC, ...), le système DOIT déclencher la fin de session
  IMAP et SMTP avec le serveur de messagerie. » Le banc met fin à la session du professionnel
  au Pro Santé Connect fictif pendant que le système garde une session IMAP ouverte : il doit la
  fermer (LOGOUT ou fermeture) dans le délai, et ne plus s'authentifier.
  ECO.1.2.7 : « Suite à la détection d'une fin de session IMAP ou SMTP déclenchée par l'Opérateur
  MSSanté, lorsque l'authentification PSC est toujours valide, le système DOIT pouvoir réouvrir
  automatiquement (i.e. sans intervention humaine) une session IMAP ou SMTP » L'opérateur ferme
  les sessions en cours (BYE, 421) ; sans autre action du banc, le système rouvre la sienne et
  s'authentifie de nouveau dans le délai, sans représenter un jeton refusé.
  Le délai de session est de 10 secondes pour un système externe (« session_delay » de son
  profil, 30 secondes au plus) et de 3 secondes pour le client de référence exécuté dans le
  banc ; le constat indique celui appliqué.

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

  @ECO.1.2.6 @PER_ORG @automated
  Scénario: fin de la session Pro Santé Connect : le système ferme ses sessions, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et le système garde une session IMAP ouverte
    Et la session Pro Santé Connect du professionnel prend fin
    Alors le système ferme ses sessions IMAP et SMTP dans le délai de session

  @ECO.1.2.6 @PER_ORG @automated
  Scénario: fin de la session Pro Santé Connect : le système ferme ses sessions, BAL organisationnelle
    Étant donné le système configuré pour la BAL "cardiologie@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et le système garde une session IMAP ouverte
    Et la session Pro Santé Connect du professionnel prend fin
    Alors le système ferme ses sessions IMAP et SMTP dans le délai de session

  @ECO.1.2.7 @PER_ORG @automated
  Scénario: l'opérateur ferme la session, l'authentification PSC est valide : réouverture, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et le système garde une session IMAP ouverte
    Et l'opérateur met fin aux sessions en cours
    Alors le système rouvre sa session et s'authentifie de nouveau dans le délai de session

  @ECO.1.2.7 @PER_ORG @automated
  Scénario: jeton refusé à la reconnexion : un nouveau jeton, jamais le même, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et le système garde une session IMAP ouverte
    Et l'opérateur refusera la prochaine authentification
    Et l'opérateur met fin aux sessions en cours
    Alors le système rouvre sa session et s'authentifie de nouveau dans le délai de session

  @ECO.1.2.3 @PER_ORG @interactive
  Scénario: une authentification refusée ne perturbe pas la suite, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-1-2-3@harnais.invalid" déposé dans sa boîte de réception
    Et l'opérateur refusera la prochaine authentification
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors l'échec d'authentification est signalé et les autres actions du système fonctionnent
    Et le testeur atteste : "le reste de l'application a continué de fonctionner pendant et après l'échec d'authentification"

  @ECO.1.2.5 @PER_ORG @attestation
  Scénario: l'Access Token PSC n'est conservé qu'en mémoire, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Et la session Pro Santé Connect du professionnel prend fin
    Et le système redémarre
    Alors aucun jeton Pro Santé Connect n'est écrit dans le dossier de données du système
    Et le testeur atteste : "le système ne conserve l'Access Token Pro Santé Connect qu'en mémoire (ni fichier, ni base, ni trousseau)"

  @ECO.1.2.7 @PER_ORG @automated
  Scénario: Access Token expiré, Refresh Token valide : rafraîchissement puis réouverture, BAL personnelle
    Étant donné des Access Tokens Pro Santé Connect valables 2 secondes
    Et le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr" avec une nouvelle session Pro Santé Connect
    Quand le système synchronise sa boîte de réception
    Et le système garde une session IMAP ouverte
    Et l'Access Token de la session tenue a expiré
    Et l'opérateur met fin aux sessions en cours
    Alors le système rafraîchit son Access Token puis rouvre sa session dans le délai de session
