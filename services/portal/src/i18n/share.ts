/**
 * Words of the pages that give, change and stop sharing (pages/consent-changes): the questions, the review, the
 * signature statement, the confirmations and what went wrong. Calm and plain: nothing is shared until the client
 * confirms, and each page says what happens next.
 */
import { defineCatalogue } from './catalogue';

export const shareWords = defineCatalogue(
  {
    continue: 'Continue',
    back: 'Back',
    change: 'Change',
    startAgain: 'Start again',
    goToOverview: 'Go to who can see what',
    thisProvider: 'this provider',

    // Choosing a provider
    providerHeading: 'Who do you want to share with?',
    providerHint: 'These are the providers your practice works with. You choose what they can see on the next pages.',
    providerAlreadySharing: 'You already share some things with them. Sharing again adds to what they can see.',
    providerNoneHeading: 'There is no one to share with yet',
    providerNoneBody: 'Your practice has not added any providers it works with. Ask your therapist if you want to share with someone.',
    providerMissing: 'Choose who you want to share with',

    // Choosing categories
    categoriesHeading: (provider: string) => `What can ${provider} see?`,
    categoriesHint: 'Choose everything you are happy for them to see. They will not see anything else.',
    neverSharedHeading: 'Never shared',
    categoriesMissing: 'Choose at least one thing they can see',
    categoriesMissingChange: 'Choose at least one thing they can see. To stop sharing with them altogether, use “Stop sharing” instead.',

    // Purpose
    purposeHeading: 'Why can they see it?',
    purposeHint: 'They may use what you share only for this reason.',
    purposeHintTREAT: 'For example, to examine or treat you at their appointments.',
    purposeHintCAREMGT: 'For example, to plan your care together with your therapist.',
    purposeMissing: 'Choose why they can see it',

    // Period
    periodHeading: 'How long can they see it?',
    periodHint: 'You can stop sharing at any time, whatever you choose here.',
    untilOpen: 'Until I stop it',
    untilDate: 'Until a date',
    untilDateLegend: 'The last day they can see it',
    untilDateHint: 'For example, 1 3 2027',
    day: 'Day',
    month: 'Month',
    year: 'Year',
    untilMissing: 'Choose how long they can see it',
    dateMissing: 'Enter the last day they can see it',
    dateInvalid: 'Enter a real date, for example 1 3 2027',
    dateNotFuture: 'The last day must be in the future',

    // Review
    reviewHeading: 'Check what you are about to share',
    reviewNothingYet: 'Nothing is shared yet. You will sign to confirm on the next page.',
    rowWho: 'Who',
    rowWhat: 'What they can see',
    rowWhy: 'Why',
    rowUntil: 'Until',
    rowNeverShared: 'Never shared',
    changeWho: 'who you share with',
    changeWhat: 'what they can see',
    changeWhy: 'why they can see it',
    changeUntil: 'how long they can see it',
    untilOpenWords: 'Until you stop it',
    untilDateWords: (date: string) => date,

    // Review of a change
    changeReviewHeading: 'Check the change',
    changeReviewIntro: (provider: string) => `This is what changes for ${provider}. Nothing has changed yet.`,
    alsoSee: 'They will now also see',
    noLongerSee: 'They will no longer see',
    stillSee: 'They will still see',
    wasValue: (now: string, before: string) => `${now} (was: ${before.charAt(0).toLowerCase()}${before.slice(1)})`,
    unchangedValue: (value: string) => `${value} (no change)`,
    noChangeYet: 'You have not changed anything yet. Use the Change buttons to choose what is different.',
    narrowingNote: 'A change takes effect on their very next request.',

    // Signature
    signHeading: 'Sign to confirm',
    signIntro: 'Read the statement, tick the box and type your full name. This is your electronic signature, and it is kept with your choice.',
    statement: (what: string, provider: string, why: string, until: string) =>
      `I agree to share ${what} with ${provider} ${why} ${until}. I can stop this at any time. It takes effect on their very next request.`,
    statementChange: (provider: string, what: string, why: string, until: string) =>
      `I agree that ${provider} can see ${what} ${why} ${until}. I can stop this at any time. It takes effect on their very next request.`,
    untilPhraseOpen: 'until I stop it',
    untilPhraseDate: (date: string) => `until ${date}`,
    agreeLegend: 'Your agreement',
    nameLabel: 'Your full name',
    nameHint: 'Typing your name here is your electronic signature.',
    shareNow: 'Share now',
    confirmChange: 'Confirm the change',
    statementUnticked: 'Tick the box to agree to the statement',
    nameMissing: 'Type your full name to sign',
    nameTooLong: 'Your name must be 200 characters or fewer',

    // Confirmations
    sharedHeading: (provider: string) => `You are now sharing with ${provider}`,
    sharedWhat: 'What they can see',
    whatNextHeading: 'What happens next',
    sharedNext: 'Their system can see this from its very next request. It cannot see anything else from your record.',
    changeAnyTime: 'You can change what they see, or stop sharing, at any time.',
    previewLink: 'See exactly what they can see now',
    changedHeading: (provider: string) => `You changed what ${provider} can see`,
    changedNext: 'The change takes effect on their very next request. Anything you stopped sharing is no longer shown to them.',
    signatureKept: 'Your signature is kept with this choice.',

    // Stop sharing
    stopHeading: (provider: string) => `Stop sharing with ${provider}?`,
    stopNowSee: 'What they can see now',
    stopWhatHappensHeading: 'What happens when you stop',
    stopWhatHappens:
      'From their very next request, they will not be able to see anything from your record. What they already received stays with them. Their system is told that sharing stopped.',
    stopButton: 'Stop sharing',
    keepSharing: 'Keep sharing and go back',
    stoppedHeading: (provider: string) => `You stopped sharing with ${provider}`,
    stoppedNext: 'From their very next request, they cannot see anything from your record. Their system has been told that sharing stopped.',
    stoppedKept: 'What they already received stays with them. If you are worried about it, talk to your therapist.',
    shareAgainLink: 'Share with a provider',
    alreadyStoppedHeading: (provider: string) => `Sharing with ${provider} has already stopped`,
    alreadyStoppedBody: 'They cannot see anything from your record through this choice. Nothing else needs to be done.',

    // Changed meanwhile (412)
    conflictHeading: 'This choice changed while you were looking at it',
    conflictBody:
      'It was changed somewhere else, perhaps by you in another window. Nothing you entered here has been saved. This is what it says now:',
    rowStatus: 'Status',
    statusActive: 'Sharing',
    statusStopped: 'Stopped',

    // Refused by CareCircle (400/422)
    refusedHeading: 'CareCircle could not save this',
    refusedBody:
      'Nothing has been shared or changed. This can happen when a provider is no longer in your practice’s list, or your practice has changed. Please start again. If it happens again, ask your practice for help.',
  },
  {
    continue: 'Continuar',
    back: 'Atrás',
    change: 'Cambiar',
    startAgain: 'Empezar de nuevo',
    goToOverview: 'Ir a quién puede ver qué',
    thisProvider: 'este proveedor',

    providerHeading: '¿Con quién quiere compartir?',
    providerHint: 'Estos son los proveedores con los que trabaja su consulta. En las páginas siguientes elegirá lo que pueden ver.',
    providerAlreadySharing: 'Ya comparte algunas cosas con ellos. Si vuelve a compartir, se añade a lo que pueden ver.',
    providerNoneHeading: 'Todavía no hay nadie con quien compartir',
    providerNoneBody:
      'Su consulta no ha añadido ningún proveedor con el que trabaje. Pregunte a su terapeuta si quiere compartir con alguien.',
    providerMissing: 'Elija con quién quiere compartir',

    categoriesHeading: (provider: string) => `¿Qué puede ver ${provider}?`,
    categoriesHint: 'Elija todo lo que le parezca bien que vean. No verán nada más.',
    neverSharedHeading: 'Nunca se comparte',
    categoriesMissing: 'Elija al menos una cosa que puedan ver',
    categoriesMissingChange:
      'Elija al menos una cosa que puedan ver. Para dejar de compartir con ellos por completo, use «Dejar de compartir».',

    purposeHeading: '¿Para qué pueden verlo?',
    purposeHint: 'Solo pueden usar lo que usted comparte para este fin.',
    purposeHintTREAT: 'Por ejemplo, para examinarle o tratarle en sus citas.',
    purposeHintCAREMGT: 'Por ejemplo, para planificar su atención junto con su terapeuta.',
    purposeMissing: 'Elija para qué pueden verlo',

    periodHeading: '¿Durante cuánto tiempo pueden verlo?',
    periodHint: 'Puede dejar de compartir en cualquier momento, elija lo que elija aquí.',
    untilOpen: 'Hasta que yo lo detenga',
    untilDate: 'Hasta una fecha',
    untilDateLegend: 'El último día en que pueden verlo',
    untilDateHint: 'Por ejemplo, 1 3 2027',
    day: 'Día',
    month: 'Mes',
    year: 'Año',
    untilMissing: 'Elija durante cuánto tiempo pueden verlo',
    dateMissing: 'Escriba el último día en que pueden verlo',
    dateInvalid: 'Escriba una fecha real, por ejemplo 1 3 2027',
    dateNotFuture: 'El último día tiene que ser en el futuro',

    reviewHeading: 'Revise lo que va a compartir',
    reviewNothingYet: 'Todavía no se comparte nada. En la página siguiente firmará para confirmarlo.',
    rowWho: 'Con quién',
    rowWhat: 'Lo que pueden ver',
    rowWhy: 'Para qué',
    rowUntil: 'Hasta',
    rowNeverShared: 'Nunca se comparte',
    changeWho: 'con quién comparte',
    changeWhat: 'lo que pueden ver',
    changeWhy: 'para qué pueden verlo',
    changeUntil: 'durante cuánto tiempo pueden verlo',
    untilOpenWords: 'Hasta que usted lo detenga',
    untilDateWords: (date: string) => date,

    changeReviewHeading: 'Revise el cambio',
    changeReviewIntro: (provider: string) => `Esto es lo que cambia para ${provider}. Todavía no ha cambiado nada.`,
    alsoSee: 'Ahora también verán',
    noLongerSee: 'Ya no verán',
    stillSee: 'Seguirán viendo',
    wasValue: (now: string, before: string) => `${now} (antes: ${before.charAt(0).toLowerCase()}${before.slice(1)})`,
    unchangedValue: (value: string) => `${value} (sin cambios)`,
    noChangeYet: 'Todavía no ha cambiado nada. Use los botones Cambiar para elegir lo que es distinto.',
    narrowingNote: 'Un cambio tiene efecto desde su próxima solicitud.',

    signHeading: 'Firme para confirmar',
    signIntro:
      'Lea la declaración, marque la casilla y escriba su nombre completo. Esta es su firma electrónica y se guarda junto con su decisión.',
    statement: (what: string, provider: string, why: string, until: string) =>
      `Acepto compartir ${what} con ${provider} ${why} ${until}. Puedo detener esto en cualquier momento. Tiene efecto desde su próxima solicitud.`,
    statementChange: (provider: string, what: string, why: string, until: string) =>
      `Acepto que ${provider} pueda ver ${what} ${why} ${until}. Puedo detener esto en cualquier momento. Tiene efecto desde su próxima solicitud.`,
    untilPhraseOpen: 'hasta que yo lo detenga',
    untilPhraseDate: (date: string) => `hasta el ${date}`,
    agreeLegend: 'Su conformidad',
    nameLabel: 'Su nombre completo',
    nameHint: 'Escribir su nombre aquí es su firma electrónica.',
    shareNow: 'Compartir ahora',
    confirmChange: 'Confirmar el cambio',
    statementUnticked: 'Marque la casilla para aceptar la declaración',
    nameMissing: 'Escriba su nombre completo para firmar',
    nameTooLong: 'Su nombre debe tener 200 caracteres como máximo',

    sharedHeading: (provider: string) => `Ahora comparte con ${provider}`,
    sharedWhat: 'Lo que pueden ver',
    whatNextHeading: 'Qué pasa ahora',
    sharedNext: 'Su sistema puede verlo desde su próxima solicitud. No puede ver nada más de su expediente.',
    changeAnyTime: 'Puede cambiar lo que ven, o dejar de compartir, en cualquier momento.',
    previewLink: 'Ver exactamente lo que pueden ver ahora',
    changedHeading: (provider: string) => `Ha cambiado lo que puede ver ${provider}`,
    changedNext: 'El cambio tiene efecto desde su próxima solicitud. Lo que dejó de compartir ya no se les muestra.',
    signatureKept: 'Su firma se guarda junto con esta decisión.',

    stopHeading: (provider: string) => `¿Dejar de compartir con ${provider}?`,
    stopNowSee: 'Lo que pueden ver ahora',
    stopWhatHappensHeading: 'Qué pasa cuando deja de compartir',
    stopWhatHappens:
      'Desde su próxima solicitud, no podrán ver nada de su expediente. Lo que ya recibieron se queda con ellos. Su sistema recibe un aviso de que ya no se comparte.',
    stopButton: 'Dejar de compartir',
    keepSharing: 'Seguir compartiendo y volver',
    stoppedHeading: (provider: string) => `Ha dejado de compartir con ${provider}`,
    stoppedNext: 'Desde su próxima solicitud, no pueden ver nada de su expediente. Su sistema ha recibido un aviso de que ya no se comparte.',
    stoppedKept: 'Lo que ya recibieron se queda con ellos. Si esto le preocupa, hable con su terapeuta.',
    shareAgainLink: 'Compartir con un proveedor',
    alreadyStoppedHeading: (provider: string) => `Ya no se comparte con ${provider}`,
    alreadyStoppedBody: 'No pueden ver nada de su expediente a través de esta decisión. No hace falta hacer nada más.',

    conflictHeading: 'Esta decisión cambió mientras usted la miraba',
    conflictBody:
      'Se cambió en otro lugar, quizá usted mismo en otra ventana. No se ha guardado nada de lo que escribió aquí. Esto es lo que dice ahora:',
    rowStatus: 'Estado',
    statusActive: 'Se comparte',
    statusStopped: 'Detenido',

    refusedHeading: 'CareCircle no pudo guardar esto',
    refusedBody:
      'No se ha compartido ni cambiado nada. Puede pasar cuando un proveedor ya no está en la lista de su consulta, o cuando su consulta ha cambiado. Vuelva a empezar. Si vuelve a pasar, pida ayuda a su consulta.',
  },
);

export type ShareWords = (typeof shareWords)['en'];
