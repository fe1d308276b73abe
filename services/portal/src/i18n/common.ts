/**
 * Words every page shares: the frame (skip link, leave quickly, language, sign out), signing in and out, and the
 * error pages. Calm and plain: the reader may be anxious, and may not be alone.
 */
import { defineCatalogue } from './catalogue';

export const common = defineCatalogue(
  {
    // The tab and the history show only this, whatever the page (coercion-safe).
    siteTitle: 'CareCircle',
    skipToContent: 'Skip to main content',
    leaveQuickly: 'Leave quickly',
    leaveQuicklyHint: 'Opens a weather page. Press Escape twice to leave.',
    language: 'Language',
    languageName: 'English',
    switchLanguage: 'Ver en español',
    switchLanguageLang: 'es',
    signOut: 'Sign out',
    signOutEverywhere: 'Sign out on all devices',
    mainNavigation: 'Main',
    navSharing: 'Who can see what',
    navShare: 'Share with a provider',
    navUpdates: 'Updates for your providers',
    navAccounting: 'Who saw what',
    footerPrivacy: 'Only you and your practice can see this page. Nothing here is shared until you confirm it.',

    welcomeHeading: 'Your sharing choices',
    welcomeIntro:
      'Here you can see which of your providers can see parts of your record, share with a new provider, change what they see, stop sharing, and see who looked.',
    welcomeSignIn: 'Sign in',
    welcomeSignInHint: 'You sign in on your practice’s CareCircle sign-in page.',

    signedOutHeading: 'You are signed out',
    signedOutBody: 'You have been signed out of this device.',
    signedOutEverywhereBody: 'You have been signed out on every device where you were signed in.',
    signedOutIdleBody: 'You were signed out because the page was not used for 15 minutes. This keeps your information safe.',
    signInAgain: 'Sign in again',

    signInCancelledHeading: 'You did not sign in',
    signInCancelledBody: 'Signing in was cancelled. Nothing has changed.',
    signInFailedHeading: 'Signing in did not work',
    signInFailedBody: 'Something went wrong while signing you in. Please try again.',
    notForClientsHeading: 'This page is for clients',
    notForClientsBody:
      'You signed in with an account that is not a client’s account. Clients use this page to manage who can see their record.',

    goToPracticeArea: 'Go to the practice area',
    goToClientArea: 'Go to the client area',
    clientsOnlyHeading: 'This area is for clients',
    clientsOnlyBody: 'You are signed in to the practice area. Clients use this area to decide who can see their record.',
    practitionersOnlyHeading: 'This area is for the practice',
    practitionersOnlyBody: 'You are signed in as a client. This area is for the therapists of your practice.',
    notForPractitionersHeading: 'This area is for the practice',
    notForPractitionersBody:
      'You signed in with an account that is not a practitioner’s account. Therapists use this area to follow their referrals.',

    practiceWelcomeHeading: 'Your practice’s referrals',
    practiceWelcomeIntro:
      'Therapists of the practice sign in here to follow the referrals they send: who has acknowledged them, what is overdue, and what to do next.',
    practiceWelcomeHint: 'You sign in with your practitioner account on your practice’s CareCircle sign-in page.',
    practiceNavReferrals: 'Referrals',
    practiceNavClients: 'Clients and updates',
    practiceFooter: 'Only people at your practice can see this page. Client information here is confidential.',

    errorHeading: 'Something went wrong',
    errorBody: 'We could not show this page. Please try again in a moment.',
    notFoundHeading: 'Page not found',
    notFoundBody: 'We could not find this page. It may have been moved, or the address may be wrong.',
    badRequestHeading: 'We could not use what was sent',
    badRequestBody: 'Please go back and try again.',
    sessionExpiredHeading: 'This form has expired',
    sessionExpiredBody: 'For your safety, forms stop working after a while or after you sign out. Please start again.',
    unavailableHeading: 'CareCircle is busy',
    unavailableBody: 'CareCircle cannot answer right now. Please try again in a minute. Nothing has been changed.',
    backToStart: 'Go to the start page',

    errorSummaryTitle: 'There is a problem',
    errorPrefix: 'Error:',
  },
  {
    siteTitle: 'CareCircle',
    skipToContent: 'Saltar al contenido principal',
    leaveQuickly: 'Salir rápido',
    leaveQuicklyHint: 'Abre una página del tiempo. Pulse Escape dos veces para salir.',
    language: 'Idioma',
    languageName: 'Español',
    switchLanguage: 'View in English',
    switchLanguageLang: 'en',
    signOut: 'Cerrar sesión',
    signOutEverywhere: 'Cerrar sesión en todos los dispositivos',
    mainNavigation: 'Principal',
    navSharing: 'Quién puede ver qué',
    navShare: 'Compartir con un proveedor',
    navUpdates: 'Informes para sus proveedores',
    navAccounting: 'Quién vio qué',
    footerPrivacy: 'Solo usted y su consulta pueden ver esta página. Nada de lo que hay aquí se comparte hasta que usted lo confirme.',

    welcomeHeading: 'Sus decisiones sobre compartir',
    welcomeIntro:
      'Aquí puede ver cuáles de sus proveedores pueden ver partes de su expediente, compartir con un nuevo proveedor, cambiar lo que ven, dejar de compartir y ver quién lo consultó.',
    welcomeSignIn: 'Iniciar sesión',
    welcomeSignInHint: 'Inicia sesión en la página de acceso de CareCircle de su consulta.',

    signedOutHeading: 'Ha cerrado la sesión',
    signedOutBody: 'Ha cerrado la sesión en este dispositivo.',
    signedOutEverywhereBody: 'Ha cerrado la sesión en todos los dispositivos donde la tenía abierta.',
    signedOutIdleBody:
      'Se cerró su sesión porque la página no se usó durante 15 minutos. Así su información se mantiene segura.',
    signInAgain: 'Volver a iniciar sesión',

    signInCancelledHeading: 'No inició sesión',
    signInCancelledBody: 'Se canceló el inicio de sesión. No ha cambiado nada.',
    signInFailedHeading: 'No se pudo iniciar sesión',
    signInFailedBody: 'Algo salió mal al iniciar su sesión. Vuelva a intentarlo.',
    notForClientsHeading: 'Esta página es para clientes',
    notForClientsBody:
      'Inició sesión con una cuenta que no es de cliente. Los clientes usan esta página para decidir quién puede ver su expediente.',

    goToPracticeArea: 'Ir al área de la consulta',
    goToClientArea: 'Ir al área de clientes',
    clientsOnlyHeading: 'Esta área es para clientes',
    clientsOnlyBody: 'Ha iniciado sesión en el área de la consulta. Los clientes usan esta área para decidir quién puede ver su expediente.',
    practitionersOnlyHeading: 'Esta área es para la consulta',
    practitionersOnlyBody: 'Ha iniciado sesión como cliente. Esta área es para los terapeutas de su consulta.',
    notForPractitionersHeading: 'Esta área es para la consulta',
    notForPractitionersBody:
      'Inició sesión con una cuenta que no es de profesional. Los terapeutas usan esta área para seguir sus derivaciones.',

    practiceWelcomeHeading: 'Las derivaciones de su consulta',
    practiceWelcomeIntro:
      'Los terapeutas de la consulta inician sesión aquí para seguir las derivaciones que envían: quién las ha confirmado, qué está vencido y qué hacer a continuación.',
    practiceWelcomeHint: 'Inicia sesión con su cuenta de profesional en la página de acceso de CareCircle de su consulta.',
    practiceNavReferrals: 'Derivaciones',
    practiceNavClients: 'Clientes e informes',
    practiceFooter: 'Solo las personas de su consulta pueden ver esta página. La información de los clientes es confidencial.',

    errorHeading: 'Algo salió mal',
    errorBody: 'No pudimos mostrar esta página. Vuelva a intentarlo en un momento.',
    notFoundHeading: 'No se encontró la página',
    notFoundBody: 'No pudimos encontrar esta página. Puede que se haya movido o que la dirección no sea correcta.',
    badRequestHeading: 'No pudimos usar lo que se envió',
    badRequestBody: 'Vuelva atrás e inténtelo de nuevo.',
    sessionExpiredHeading: 'Este formulario ha caducado',
    sessionExpiredBody:
      'Por su seguridad, los formularios dejan de funcionar después de un tiempo o al cerrar la sesión. Vuelva a empezar.',
    unavailableHeading: 'CareCircle está ocupado',
    unavailableBody: 'CareCircle no puede responder ahora. Vuelva a intentarlo en un minuto. No se ha cambiado nada.',
    backToStart: 'Ir a la página de inicio',

    errorSummaryTitle: 'Hay un problema',
    errorPrefix: 'Error:',
  },
);
