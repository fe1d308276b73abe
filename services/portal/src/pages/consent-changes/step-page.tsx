/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The page of one step of sharing or changing, chosen by the step (the routes decide which step; this only draws it).
 */
import type { VNode } from 'preact';
import type { Signature, Step } from './consent-answers';
import type { ConsentChange } from './consent-diff';
import type { ConsentTerms } from './consent-resource';
import { CategoriesPage } from './categories-page';
import { ChangeReviewPage } from './change-review-page';
import type { StepProps } from './flow-form';
import { PeriodPage } from './period-page';
import { ProviderPage, type ProviderChoice } from './provider-page';
import { PurposePage } from './purpose-page';
import { ReviewPage } from './review-page';
import { SignPage } from './sign-page';

/** What the later steps need besides the answers: the terms (review, sign), the change, the statement. */
export interface StepExtras {
  readonly providers?: readonly ProviderChoice[];
  readonly terms?: ConsentTerms;
  readonly change?: ConsentChange;
  readonly statement?: string;
  readonly signature?: Signature;
}

export function stepPage(step: Step, props: StepProps, extras: StepExtras): VNode {
  switch (step) {
    case 'provider':
      return <ProviderPage {...props} providers={extras.providers ?? []} />;
    case 'categories':
      return <CategoriesPage {...props} />;
    case 'purpose':
      return <PurposePage {...props} />;
    case 'period':
      return <PeriodPage {...props} />;
    case 'review':
      if (!extras.terms) {
        throw new Error('the review needs the terms');
      }
      return extras.change ? <ChangeReviewPage {...props} terms={extras.terms} change={extras.change} /> : <ReviewPage {...props} terms={extras.terms} />;
    case 'sign':
      return <SignPage {...props} statement={extras.statement ?? ''} signature={extras.signature ?? { name: '', agreed: false }} />;
    default:
      return step satisfies never;
  }
}
