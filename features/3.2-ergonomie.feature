# language: fr
Fonctionnalité: Ergonomie — conversations, tris et plusieurs BAL (§4.2, recommandations)
  Exigences de niveau PEUT, rapportées comme informatives : le testeur atteste ce que le système
  propose ; rien n'est jugé non conforme.
  ECO.3.2.1 : présentation des courriels par conversation.
  ECO.3.2.2 : tri des courriels (date, émetteur, objet…).
  ECO.3.2.3 : consultation de plusieurs BAL depuis la même application.

  Contexte:
    Étant donné un opérateur MSSanté fictif

  @ECO.3.2.1 @PER_ORG @informational
  Scénario: BAL personnelle — les courriels présentés par conversation
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-2-1@harnais.invalid" déposé dans sa boîte de réception
    Quand le système synchronise sa boîte de réception
    Alors le testeur atteste : "le message déposé est présenté avec les échanges de sa conversation (fil de discussion)"

  @ECO.3.2.2 @PER_ORG @informational
  Scénario: BAL personnelle — les courriels triés par date, émetteur ou objet
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Et un message "eco-3-2-2@harnais.invalid" déposé dans sa boîte de réception
    Quand le système synchronise sa boîte de réception
    Alors le testeur atteste : "la boîte de réception peut être triée par date, par émetteur et par objet"

  @ECO.3.2.3 @PER_ORG @informational
  Scénario: BAL personnelle — plusieurs BAL consultées depuis la même application
    Étant donné le système configuré pour la BAL "marie.martin@operateur-fictif.mssante.fr"
    Alors le testeur atteste : "l'application permet de consulter plusieurs BAL (personnelle et organisationnelles) sans se reconnecter"
