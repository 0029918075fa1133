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

  Contexte:
    Étant donné un opérateur MSSanté fictif

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
