# language: fr
Fonctionnalité: Traces — connexions, authentifications, envois et relèves tracés avec leur réponse (§5.1)
  Le système exporte ses traces (action « export_traces ») ; le harnais les compare au journal
  de l'opérateur pour le même scénario.
  ECO.4.1.1 : le système trace les connexions, authentifications, envois, relèves et
  suppressions de courriels : autant de traces de chaque sorte que l'opérateur en a journalisé.
  ECO.4.1.2 : chaque trace comporte l'auteur authentifié, un horodatage local, le type d'action,
  la requête et la réponse — y compris pour une opération refusée (l'opérateur refuse un
  destinataire inconnu).

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.4.1.1 @PER_ORG @driver
  Scénario: BAL personnelle — chaque connexion, authentification, envoi et relève est tracé
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-4-1-1-per@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système affiche sa boîte de réception
    Et le système exporte ses traces
    Alors chaque connexion, authentification, envoi et relève journalisés par l'opérateur a sa trace

  @ECO.4.1.1 @APP @driver
  Scénario: BAL applicative — chaque connexion, authentification, envoi et relève est tracé
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-4-1-1-app@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et le système affiche sa boîte de réception
    Et le système exporte ses traces
    Alors chaque connexion, authentification, envoi et relève journalisés par l'opérateur a sa trace

  @ECO.4.1.2 @PER_ORG @driver
  Scénario: BAL personnelle — chaque trace est complète, l'envoi refusé compris
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "destinataire.inconnu@operateur-fictif.mssante.fr"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et le système exporte ses traces
    Alors chaque trace porte l'auteur authentifié, un horodatage local, l'action, la requête et la réponse, échec compris

  @ECO.4.1.2 @APP @driver
  Scénario: BAL applicative — chaque trace est complète, l'envoi refusé compris
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "destinataire.inconnu@operateur-fictif.mssante.fr"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et le système exporte ses traces
    Alors chaque trace porte l'auteur authentifié, un horodatage local, l'action, la requête et la réponse, échec compris
