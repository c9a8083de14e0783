// English and French strings. The language comes from the `lang` query parameter (openConnectUI's `lang`), then
// the browser's preferred languages, then English.
const en = {
    title: 'Connect an app',
    subtitle: 'Choose the service to connect.',
    loading: 'Loading…',
    waitingForSession: 'Waiting for the connect session…',
    search: 'Search',
    noIntegrations: 'No integration is available for this session.',
    back: 'Back',
    cancel: 'Cancel',
    close: 'Close',
    connect: 'Connect',
    reconnect: 'Reconnect',
    tryAgain: 'Try again',
    done: 'Done',
    connectTo: 'Connect to {name}',
    reconnectTo: 'Reconnect to {name}',
    oauthIntro: 'A window will open where you sign in to {name} and allow access.',
    credentialsIntro: 'Enter the credentials from your {name} account.',
    noneIntro: '{name} needs no credentials.',
    docsLink: 'Where do I find these?',
    waitingForPopup: 'Finish signing in to {name} in the window that opened.',
    connecting: 'Connecting…',
    successTitle: 'Connected',
    successText: 'Your {name} account is connected. You can close this window.',
    errorTitle: 'Could not connect',
    required: 'This field is required.',
    invalidFormat: 'This value does not have the expected format.',
    invalidEmail: 'Enter an email address.',
    invalidUrl: 'Enter a URL starting with https://',
    optional: 'optional',
    fieldApiKey: 'API key',
    fieldUsername: 'Username',
    fieldPassword: 'Password',
    fieldClientId: 'Client ID',
    fieldClientSecret: 'Client secret',
    fieldAccessKeyId: 'Access key ID',
    fieldSecretAccessKey: 'Secret access key',
    fieldRegion: 'Region',
    fieldService: 'Service',
    fieldTokenId: 'Token ID',
    fieldTokenSecret: 'Token secret',
    fieldOrganizationId: 'Organization ID',
    fieldDevKey: 'Developer key',
    fieldRoleArn: 'IAM role ARN',
    awsKind: 'How do we reach your AWS account?',
    awsUseKey: 'With an access key',
    awsUseRole: 'By assuming an IAM role',
    showSecret: 'Show',
    hideSecret: 'Hide',
    unsupported: '{name} uses an authentication method this window cannot handle yet ({mode}). Ask the app to connect it for you.',
    errorDetails: 'Details: {detail}',
    errSessionExpired: 'This connection link has expired or is no longer valid. Go back to the app and start again.',
    errNotAllowed: 'This app does not allow connecting this service from here.',
    errCredentialsRejected: '{name} refused these credentials. Check them and try again.',
    errValidation: 'The details you entered are not valid for {name}.',
    errWindowClosed: 'The sign-in window was closed before you finished. Try again when you are ready.',
    errPopupBlocked: 'Your browser blocked the sign-in window. Allow pop-ups for this site and try again.',
    errNetwork: 'The connection service could not be reached. Check your network and try again.',
    errIntegrationMissing: 'This service is not set up any more. Go back to the app and start again.',
    errCapped: 'This app has reached its limit of connections.',
    errUnavailable: 'Connecting {name} is not available on this server yet.',
    errGeneric: 'Something went wrong while connecting. Try again, or go back to the app.',
    errNoParent: 'This window cannot talk to the app that opened it.'
};

export type StringKey = keyof typeof en;
export type Strings = Record<StringKey, string>;

const fr: Strings = {
    title: 'Connecter une application',
    subtitle: 'Choisissez le service à connecter.',
    loading: 'Chargement…',
    waitingForSession: 'En attente de la session de connexion…',
    search: 'Rechercher',
    noIntegrations: 'Aucune intégration n’est disponible pour cette session.',
    back: 'Retour',
    cancel: 'Annuler',
    close: 'Fermer',
    connect: 'Connecter',
    reconnect: 'Reconnecter',
    tryAgain: 'Réessayer',
    done: 'Terminé',
    connectTo: 'Connexion à {name}',
    reconnectTo: 'Reconnexion à {name}',
    oauthIntro: 'Une fenêtre va s’ouvrir pour vous connecter à {name} et autoriser l’accès.',
    credentialsIntro: 'Saisissez les identifiants de votre compte {name}.',
    noneIntro: '{name} ne demande aucun identifiant.',
    docsLink: 'Où les trouver ?',
    waitingForPopup: 'Terminez la connexion à {name} dans la fenêtre qui s’est ouverte.',
    connecting: 'Connexion en cours…',
    successTitle: 'Connecté',
    successText: 'Votre compte {name} est connecté. Vous pouvez fermer cette fenêtre.',
    errorTitle: 'Connexion impossible',
    required: 'Ce champ est obligatoire.',
    invalidFormat: 'Cette valeur n’a pas le format attendu.',
    invalidEmail: 'Saisissez une adresse e-mail.',
    invalidUrl: 'Saisissez une URL commençant par https://',
    optional: 'facultatif',
    fieldApiKey: 'Clé d’API',
    fieldUsername: 'Nom d’utilisateur',
    fieldPassword: 'Mot de passe',
    fieldClientId: 'Identifiant client',
    fieldClientSecret: 'Secret client',
    fieldAccessKeyId: 'ID de clé d’accès',
    fieldSecretAccessKey: 'Clé d’accès secrète',
    fieldRegion: 'Région',
    fieldService: 'Service',
    fieldTokenId: 'ID du jeton',
    fieldTokenSecret: 'Secret du jeton',
    fieldOrganizationId: 'ID de l’organisation',
    fieldDevKey: 'Clé de développeur',
    fieldRoleArn: 'ARN du rôle IAM',
    awsKind: 'Comment accéder à votre compte AWS ?',
    awsUseKey: 'Avec une clé d’accès',
    awsUseRole: 'En assumant un rôle IAM',
    showSecret: 'Afficher',
    hideSecret: 'Masquer',
    unsupported:
        '{name} utilise une méthode d’authentification que cette fenêtre ne gère pas encore ({mode}). Demandez à l’application de la connecter pour vous.',
    errorDetails: 'Détails : {detail}',
    errSessionExpired: 'Ce lien de connexion a expiré ou n’est plus valide. Revenez à l’application et recommencez.',
    errNotAllowed: 'Cette application ne permet pas de connecter ce service ici.',
    errCredentialsRejected: '{name} a refusé ces identifiants. Vérifiez-les et réessayez.',
    errValidation: 'Les informations saisies ne sont pas valides pour {name}.',
    errWindowClosed: 'La fenêtre de connexion a été fermée avant la fin. Réessayez quand vous êtes prêt.',
    errPopupBlocked: 'Votre navigateur a bloqué la fenêtre de connexion. Autorisez les fenêtres pop-up pour ce site et réessayez.',
    errNetwork: 'Le service de connexion est injoignable. Vérifiez votre réseau et réessayez.',
    errIntegrationMissing: 'Ce service n’est plus configuré. Revenez à l’application et recommencez.',
    errCapped: 'Cette application a atteint sa limite de connexions.',
    errUnavailable: 'La connexion à {name} n’est pas encore disponible sur ce serveur.',
    errGeneric: 'Un problème est survenu pendant la connexion. Réessayez ou revenez à l’application.',
    errNoParent: 'Cette fenêtre ne peut pas communiquer avec l’application qui l’a ouverte.'
};

const catalogues: Record<Lang, Strings> = { en, fr };
export type Lang = 'en' | 'fr';

/** Picks the language: an explicit `lang` parameter first, then the browser's list, then English. */
export function pickLang(param: string | null, preferred: readonly string[]): Lang {
    for (const candidate of [param ?? '', ...preferred]) {
        const base = candidate.toLowerCase().split(/[-_]/)[0];
        if (base === 'en' || base === 'fr') return base;
    }
    return 'en';
}

export type Translate = (key: StringKey, vars?: Record<string, string>) => string;

export function translator(lang: Lang): Translate {
    const strings = catalogues[lang];
    return (key, vars = {}) => strings[key].replace(/\{(\w+)\}/g, (m, name: string) => vars[name] ?? m);
}
