# language: fr
Fonctionnalité: Messages — Message-ID, encodage, corps, libellé de l'émetteur, Reply-To des BAL applicatives et X-MSS-NIL (§3.2, §3.3, §3.8.3)
  ECO.2.2.1 : « Le système DOIT renseigner l'entête « Message-ID » conformément à la RFC 5322
  dans tout nouveau courriel produit. » L'identifiant doit aussi être unique : deux messages de la
  campagne ne partagent pas le même Message-ID.
  ECO.2.4.3 : « Le système DOIT positionner l'entête SMTP "X-MSS-NIL" dans tous les courriels
  envoyés. » Les messages sont jugés tels que l'opérateur les a reçus.
  ECO.2.2.2 : toute réponse porte son propre Message-ID, In-Reply-To (le Message-ID de l'original)
  et References (les References de l'original suivies de son Message-ID), RFC 5322 §3.6.4.
  ECO.2.2.6 : les adresses usagers sont construites sur une INS qualifiée (matricule de 15
  caractères, clé de contrôle juste) ; rien n'est envoyé à un usager à l'identité non qualifiée.
  ECO.2.2.3 : « Le système MSSanté DOIT utiliser l'encodage UTF-8 pour les parties text du corps
  des courriels. » Le texte demandé au système est accentué.
  ECO.2.2.4 : le corps est text/plain, ou multipart/alternative avec text/plain puis text/html
  portant les mêmes mots.
  ECO.2.2.5 : un courriel envoyé depuis une BAL applicative porte en Reply-To la BAL personnelle
  ou organisationnelle paramétrée, et une mention indiquant qu'il a été généré automatiquement.
  ECO.2.2.7 : « Le système DOIT spécifier un libellé signifiant en complément de l'adresse de
  messagerie de l'émetteur du courriel. »

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

  @ECO.2.2.3 @PER_ORG @automated
  Scénario: BAL personnelle — parties texte en UTF-8
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message HTML à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque partie texte des messages envoyés est en UTF-8

  @ECO.2.2.3 @APP @automated
  Scénario: BAL applicative — parties texte en UTF-8
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque partie texte des messages envoyés est en UTF-8

  @ECO.2.2.4 @PER_ORG @automated
  Scénario: BAL personnelle — corps en texte, ou en texte puis HTML
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message HTML à "paul.durand@operateur-fictif.mssante.fr"
    Alors le corps de chaque message envoyé est en texte, ou en texte puis HTML

  @ECO.2.2.4 @APP @automated
  Scénario: BAL applicative — corps en texte, ou en texte puis HTML
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message HTML à "marie.martin@operateur-fictif.mssante.fr"
    Alors le corps de chaque message envoyé est en texte, ou en texte puis HTML

  @ECO.2.2.5 @APP @automated
  Scénario: BAL applicative — Reply-To de la BAL paramétrée et mention de génération automatique
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et le système envoie un message HTML à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé porte le Reply-To de la BAL paramétrée et la mention de génération automatique

  @ECO.2.2.7 @PER_ORG @automated
  Scénario: BAL personnelle — un libellé signifiant pour l'émetteur
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé nomme son émetteur par un libellé signifiant

  @ECO.2.2.7 @PER_ORG @automated
  Scénario: BAL organisationnelle — un libellé signifiant pour l'émetteur
    Étant donné le système configuré pour la BAL "cardiologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors chaque message envoyé nomme son émetteur par un libellé signifiant

  @ECO.2.2.7 @APP @automated
  Scénario: BAL applicative — un libellé signifiant pour l'émetteur
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors chaque message envoyé nomme son émetteur par un libellé signifiant

  @ECO.2.2.8 @PER_ORG @automated
  Scénario: BAL personnelle — X-MSS-MES: FIN à un usager quand la fin des échanges est demandée, et seulement alors
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "278117511504249@patient.mssante.fr"
    Et le système envoie un message à "278117511504249@patient.mssante.fr" qui met fin aux échanges
    Alors chaque message envoyé à un usager porte X-MSS-MES: FIN si et seulement si la fin des échanges a été demandée

  @ECO.2.3.1 @PER_ORG @automated
  Scénario: BAL personnelle — accusé de réception demandé : Return-Receipt-To vers la BAL émettrice
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr" avec demande d'accusé de réception
    Alors chaque message envoyé porte Return-Receipt-To vers sa BAL si l'accusé de réception a été demandé

  @ECO.2.3.1 @APP @automated
  Scénario: BAL applicative — accusé de réception demandé : Return-Receipt-To vers la BAL émettrice
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr" avec demande d'accusé de réception
    Alors chaque message envoyé porte Return-Receipt-To vers sa BAL si l'accusé de réception a été demandé

  @ECO.2.3.2 @PER_ORG @automated
  Scénario: BAL personnelle — accusé de lecture demandé : Disposition-Notification-To vers la BAL émettrice
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr" avec demande d'accusé de lecture
    Alors chaque message envoyé porte Disposition-Notification-To vers sa BAL si l'accusé de lecture a été demandé

  @ECO.2.3.2 @APP @automated
  Scénario: BAL applicative — accusé de lecture demandé : Disposition-Notification-To vers la BAL émettrice
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr" avec demande d'accusé de lecture
    Alors chaque message envoyé porte Disposition-Notification-To vers sa BAL si l'accusé de lecture a été demandé

  @ECO.2.2.2 @PER_ORG @driver
  Scénario: BAL personnelle — une réponse porte son Message-ID, In-Reply-To et la chaîne References
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-2-2-2-per@harnais.invalid" déposé dans sa boîte de réception
    Quand le système répond au message "eco-2-2-2-per@harnais.invalid"
    Alors la réponse porte son propre Message-ID, In-Reply-To et la chaîne References

  @ECO.2.2.2 @APP @driver
  Scénario: BAL applicative — une réponse porte son Message-ID, In-Reply-To et la chaîne References
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-2-2-2-app@harnais.invalid" déposé dans sa boîte de réception
    Quand le système répond au message "eco-2-2-2-app@harnais.invalid"
    Alors la réponse porte son propre Message-ID, In-Reply-To et la chaîne References

  @ECO.2.2.6 @PER_ORG @automated
  Scénario: BAL personnelle — adresses usagers construites sur une INS qualifiée
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système écrit à l'usager "278117511504249"
    Et le système écrit à l'usager "295021305501254"
    Alors chaque adresse usager est construite sur une INS valide, et aucune pour une identité non qualifiée

  @ECO.2.2.6 @APP @automated
  Scénario: BAL applicative — adresses usagers construites sur une INS qualifiée
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système écrit à l'usager "278117511504249"
    Et le système écrit à l'usager "295021305501254"
    Alors chaque adresse usager est construite sur une INS valide, et aucune pour une identité non qualifiée
