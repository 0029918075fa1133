# language: fr
Fonctionnalité: API LPS — SMTP et IMAP avec STARTTLS (§2.1.1.2.1)
  ECO.1.0.1 : « Le système DOIT disposer d'une interface d'envoi de messages utilisant le
  protocole SMTP conforme à la RFC 5321 avec STARTTLS comme défini dans le RFC 3207. »
  ECO.1.0.2 : « Le système DOIT disposer d'une interface d'accès aux BAL utilisant le protocole
  IMAP 4 (rev1 ou rev2) [...] avec STARTTLS. »
  L'opérateur fictif journalise chaque commande et dit si elle a circulé en clair ou dans TLS.
  Lecture retenue : en clair, seulement ce qui précède la bascule ou ne porte rien (SMTP : EHLO,
  HELO, STARTTLS, NOOP, RSET, QUIT ; IMAP : CAPABILITY, STARTTLS, NOOP, ID, LOGOUT) — une
  authentification en clair échoue même refusée ; rien d'envoyé derrière STARTTLS avant la
  négociation TLS ; le message est accepté (SMTP) ou lu (IMAP) dans TLS. Une connexion IMAP
  laissée ouverte (IDLE) est jugée sur ce qu'elle a fait. Si l'envoi ou la lecture n'a pas eu
  lieu pour une autre raison (négociation TLS, authentification refusée), l'exigence est « non
  testée » avec la raison, et l'authentification est jugée par ECO.1.2.1 ou ECO.1.3.1.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.1.0.1 @PER_ORG @automated
  Scénario: opérateur sans STARTTLS, envoi depuis une BAL personnelle : rien en clair
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "no-starttls"
    Et le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors le système n'a envoyé en clair ni authentification ni commande SMTP

  @ECO.1.0.1 @APP @automated
  Scénario: opérateur sans STARTTLS, envoi depuis une BAL applicative : rien en clair
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et l'opérateur présente ensuite le profil TLS "no-starttls"
    Et le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors le système n'a envoyé en clair ni authentification ni commande SMTP

  @ECO.1.0.2 @PER_ORG @automated
  Scénario: opérateur sans STARTTLS, synchronisation d'une BAL personnelle : rien en clair
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et l'opérateur présente ensuite le profil TLS "no-starttls"
    Et le système synchronise sa boîte de réception
    Alors le système n'a envoyé en clair ni authentification ni commande IMAP

  @ECO.1.0.2 @APP @automated
  Scénario: opérateur sans STARTTLS, synchronisation d'une BAL applicative : rien en clair
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système synchronise sa boîte de réception
    Et l'opérateur présente ensuite le profil TLS "no-starttls"
    Et le système synchronise sa boîte de réception
    Alors le système n'a envoyé en clair ni authentification ni commande IMAP

  @ECO.1.0.1 @PER_ORG @automated
  Scénario: envoi SMTP depuis une BAL personnelle, STARTTLS avant tout le reste
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "paul.durand@operateur-fictif.mssante.fr"
    Alors l'envoi a suivi SMTP avec STARTTLS, sans donnée en clair

  @ECO.1.0.1 @APP @automated
  Scénario: envoi SMTP depuis une BAL applicative, STARTTLS avant tout le reste
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Alors l'envoi a suivi SMTP avec STARTTLS, sans donnée en clair

  @ECO.1.0.2 @PER_ORG @automated
  Scénario: synchronisation IMAP d'une BAL personnelle, STARTTLS avant tout le reste
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-1-0-2-per@harnais.invalid" déposé dans sa boîte de réception
    Quand le système synchronise sa boîte de réception
    Alors la synchronisation a suivi IMAP avec STARTTLS, sans donnée en clair

  @ECO.1.0.2 @APP @automated
  Scénario: synchronisation IMAP d'une BAL applicative, STARTTLS avant tout le reste
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-1-0-2-app@harnais.invalid" déposé dans sa boîte de réception
    Quand le système synchronise sa boîte de réception
    Alors la synchronisation a suivi IMAP avec STARTTLS, sans donnée en clair
