/** @jsxRuntime automatic */
/** @jsxImportSource preact */
/**
 * The sharing overview (placeholder until the sharing pages land): who the client shares with.
 */
import type { RequestHandler } from 'express';
import type { Consent } from '@medplum/fhirtypes';
import { apiOf, viewOf, type PageDeps } from '../../http/page-context';
import { Layout } from '../../views/layout';
import { sendPage } from '../../views/render';

export function sharingOverview(deps: PageDeps): RequestHandler {
  return async function overview(req, res) {
    const api = apiOf(req, deps);
    const bundle = await api.search<Consent>(`/Consent?patient=${encodeURIComponent(api.patient)}&_count=100`);
    const view = viewOf(req, deps);
    sendPage(
      res,
      <Layout view={view}>
        <h1>{view.t.navSharing}</h1>
        <p>{bundle.entry?.length ?? 0}</p>
      </Layout>,
    );
  };
}
