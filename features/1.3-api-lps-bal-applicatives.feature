# language: fr
Fonctionnalité: API LPS — BAL applicatives, certificat ORG AUTH_CLI (§2.1.1.4)
  ECO.1.3.1 : « 1- Monter la session TLS avec STARTTLS en présentant un certificat ORG AUTH_CLI
  [...] 2- Transmettre l'adresse de la BAL dans le login de la méthode d'authentification PLAIN
  [...] 3- Envoyer les commandes SMTP ou IMAP. » Le certificat porte dans son OU l'IdNat de la
  structure détentrice de la BAL applicative (lue dans l'annuaire de l'opérateur).

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.1.3.1 @APP @automated
  Scénario: certificat ORG AUTH_CLI de la structure puis PLAIN, sur SMTP et sur IMAP
    Étant donné le système configuré pour la BAL "resultats-biologie@operateur-fictif.mssante.fr"
    Et un message "eco-1-3-1@harnais.invalid" déposé dans sa boîte de réception
    Quand le système envoie un message à "marie.martin@operateur-fictif.mssante.fr"
    Et le système synchronise sa boîte de réception
    Alors chaque session a présenté le certificat ORG AUTH_CLI de la structure puis PLAIN avec l'adresse de la BAL, après STARTTLS et avant toute autre commande
