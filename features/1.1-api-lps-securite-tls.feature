# language: fr
Fonctionnalité: API LPS — sécurité de la couche de transport (§2.1.1.2.2)
  ECO.1.1.3 : « Le système DOIT uniquement utiliser l'une des suites de chiffrement suivantes,
  lors de la négociation TLS pour établir une connexion avec l'API LPS d'un Opérateur
  MSSanté : 0xC030, 0xC02F, 0xC028, 0xC027, 0x009F, 0x009E. Pour l'échange des clés de
  chiffrement TLS, le système DOIT utiliser : soit le protocole DHE avec un groupe d'au moins
  2048 bits, soit le protocole ECDHE avec une courbe d'au moins 256 bits. »
  L'opérateur fictif journalise chaque ClientHello (versions, suites et groupes offerts) et les
  paramètres négociés. Lecture retenue : strictement, chaque suite TLS 1.2 offerte est l'une
  des six (les valeurs de signalisation et GREASE ne sont pas des suites ; les suites TLS 1.3
  sont admises quand TLS 1.3 est offert) et chaque groupe offert fait au moins 256 bits (courbe)
  ou 2048 bits (DHE) ; conceptuellement, la suite et le groupe négociés sont autorisés. Le
  rapport donne les deux.

  ECO.1.1.1 : « Le système DOIT utiliser au minimum la version 1.2 du protocole TLS [...] »
  ECO.1.1.5 et ECO.1.1.10 : le certificat serveur de l'opérateur est vérifié (période de
  validité ; chaîne jusqu'à l'AC IGC Santé Elementaire Organisations seulement).
  « Abandonner » : le système ferme ou alerte la négociation TLS, ou ferme la connexion, avant
  toute donnée d'authentification et toute commande après STARTTLS ; l'opérateur le journalise.

  ECO.1.1.6 : « Le système MSSanté DOIT vérifier que le certificat présenté par l'Opérateur
  MSSanté n'est pas révoqué au moyen des CRL ou du répondeur OCSP. » Face au certificat révoqué,
  le système abandonne ; le rapport cite les requêtes OCSP et téléchargements de CRL du journal.
  ECO.1.1.7 : « Le système DOIT s'assurer de conserver la dernière CRL non expirée, lorsque le
  contrôle de révocation est réalisé au moyen des CRL [...] » Le répondeur OCSP en panne, le
  système télécharge la CRL ; les points de distribution en panne à leur tour, sa connexion
  suivante aboutit encore, et le certificat révoqué est refusé grâce à la CRL conservée (un
  système qui se connecte quand le statut est inconnu n'a rien conservé). Un système qui n'a téléchargé aucune CRL n'utilise que l'OCSP : non
  applicable, avec cette preuve.
  ECO.1.1.9 : à partir de la seule adresse de la BAL, le système lit
  https://autoconfig.<domaine>/mail/config-v1.1.xml, applique l'hôte et les ports du point
  d'entrée de sa famille (ceux du banc ne sont ni 587 ni 143), puis teste la connexion (un
  serveur joint en TLS suffit : « un test de connexion »). Ces scénarios utilisent des BAL
  configurées nulle part ailleurs, pour qu'aucune session antérieure ne tienne lieu de test.

  ECO.1.1.2 (PEUT) : la version négociée quand l'opérateur offre TLS 1.3 est rapportée, à titre
  informatif ; TLS 1.2 seul n'est jamais un échec.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.1.1.2 @PER_ORG @informational
  Scénario: version de TLS négociée avec un opérateur qui offre TLS 1.3, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors la version de TLS négociée est rapportée

  @ECO.1.1.2 @APP @informational
  Scénario: version de TLS négociée avec un opérateur qui offre TLS 1.3, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors la version de TLS négociée est rapportée

  @ECO.1.1.3 @PER_ORG @automated
  Scénario: suites et groupes offerts depuis une BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-1-1-3-per@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors le système n'a offert et négocié que les suites et groupes autorisés

  @ECO.1.1.3 @APP @automated
  Scénario: suites et groupes offerts depuis une BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-1-1-3-app@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors le système n'a offert et négocié que les suites et groupes autorisés

  @ECO.1.1.1 @PER_ORG @automated
  Scénario: opérateur limité à TLS 1.2 : la session aboutit, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur qui présente le profil TLS "tls12-only"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système a mené sa session en TLS 1.2

  @ECO.1.1.1 @APP @automated
  Scénario: opérateur limité à TLS 1.2 : la session aboutit, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et l'opérateur qui présente le profil TLS "tls12-only"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système a mené sa session en TLS 1.2

  @ECO.1.1.1 @PER_ORG @automated
  Scénario: opérateur limité à TLS 1.0 : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "tls10-only"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une version antérieure à TLS 1.2

  @ECO.1.1.1 @APP @automated
  Scénario: opérateur limité à TLS 1.0 : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "tls10-only"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une version antérieure à TLS 1.2

  @ECO.1.1.1 @PER_ORG @automated
  Scénario: opérateur limité à TLS 1.1 : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "tls11-only"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une version antérieure à TLS 1.2

  @ECO.1.1.3 @PER_ORG @automated
  Scénario: suite hors liste imposée (CHACHA20) : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "off-list-suite"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une suite ou un groupe interdit

  @ECO.1.1.3 @APP @automated
  Scénario: suite hors liste imposée (CHACHA20) : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "off-list-suite"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une suite ou un groupe interdit

  @ECO.1.1.3 @APP @automated
  Scénario: suite CBC-SHA imposée : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "cbc-sha"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une suite ou un groupe interdit

  @ECO.1.1.3 @PER_ORG @automated
  Scénario: DHE avec un groupe de 1024 bits : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "dhe-1024"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une suite ou un groupe interdit

  @ECO.1.1.3 @PER_ORG @automated
  Scénario: ECDHE sur P-224 : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "ecdhe-p224"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à une suite ou un groupe interdit

  @ECO.1.1.5 @PER_ORG @automated
  Scénario: certificat serveur expiré : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-expire"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat hors de sa période de validité

  @ECO.1.1.5 @APP @automated
  Scénario: certificat serveur expiré : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-expire"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat hors de sa période de validité

  @ECO.1.1.5 @PER_ORG @automated
  Scénario: certificat serveur pas encore valide : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-pas-encore-valide"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat hors de sa période de validité

  @ECO.1.1.10 @PER_ORG @automated
  Scénario: certificat serveur de la branche Elementaire Personnes : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-personnes"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat d'une autre autorité

  @ECO.1.1.10 @APP @automated
  Scénario: certificat serveur de la branche Elementaire Personnes : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-personnes"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat d'une autre autorité

  @ECO.1.1.10 @PER_ORG @automated
  Scénario: certificat serveur de la branche Standard : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-standard"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat d'une autre autorité

  @ECO.1.1.10 @APP @automated
  Scénario: certificat serveur d'une AC commerciale : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-commercial"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat d'une autre autorité

  @ECO.1.1.6 @PER_ORG @automated
  Scénario: certificat serveur révoqué : abandon, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-revoque"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat révoqué

  @ECO.1.1.6 @APP @automated
  Scénario: certificat serveur révoqué : abandon, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-revoque"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système abandonne la connexion face à un certificat révoqué

  @ECO.1.1.7 @PER_ORG @automated
  Scénario: dernière CRL conservée quand son point de distribution tombe, BAL personnelle
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et le répondeur OCSP de l'opérateur en panne
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et les points de distribution des CRL tombent aussi en panne
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-revoque"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système se connecte encore grâce à la dernière CRL conservée

  @ECO.1.1.7 @APP @automated
  Scénario: dernière CRL conservée quand son point de distribution tombe, BAL applicative
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et le répondeur OCSP de l'opérateur en panne
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et les points de distribution des CRL tombent aussi en panne
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "certificate-revoque"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système se connecte encore grâce à la dernière CRL conservée

  @ECO.1.1.9 @PER_ORG @driver
  Scénario: autoconfiguration à partir de la seule adresse, BAL personnelle
    Quand le système configure la BAL "paul.durand@operateur-fictif.mssante.fr" à partir de sa seule adresse
    Alors le système a lu le document d'autoconfiguration et testé les serveurs annoncés

  @ECO.1.1.9 @APP @driver
  Scénario: autoconfiguration à partir de la seule adresse, BAL applicative
    Quand le système configure la BAL "imagerie-lyon@operateur-fictif.mssante.fr" à partir de sa seule adresse
    Alors le système a lu le document d'autoconfiguration et testé les serveurs annoncés
