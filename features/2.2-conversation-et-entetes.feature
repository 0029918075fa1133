# language: fr
Fonctionnalité: Messages — Message-ID et entête X-MSS-NIL (§3.2, §3.8.3)
  ECO.2.2.1 : « Le système DOIT renseigner l'entête « Message-ID » conformément à la RFC 5322
  dans tout nouveau courriel produit. » L'identifiant doit aussi être unique : deux messages de la
  campagne ne partagent pas le même Message-ID.
  ECO.2.4.3 : « Le système DOIT positionner l'entête SMTP "X-MSS-NIL" dans tous les courriels
  envoyés. » Les messages sont jugés tels que l'opérateur les a reçus.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.2.2.1 @PER_ORG @automated
  Scénario: BAL personnelle — un Message-ID RFC 5322 unique sur chaque nouveau message
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie 3 messages à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte un Message-ID conforme à la RFC 5322, unique dans la campagne

  @ECO.2.2.1 @APP @automated
  Scénario: BAL applicative — un Message-ID RFC 5322 unique sur chaque nouveau message
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie 3 messages à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte un Message-ID conforme à la RFC 5322, unique dans la campagne

  @ECO.2.4.3 @PER_ORG @automated
  Scénario: BAL personnelle — X-MSS-NIL renseigné sur chaque message
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie 2 messages à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte un entête X-MSS-NIL renseigné

  @ECO.2.4.3 @APP @automated
  Scénario: BAL applicative — X-MSS-NIL renseigné sur chaque message
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie 2 messages à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte un entête X-MSS-NIL renseigné
