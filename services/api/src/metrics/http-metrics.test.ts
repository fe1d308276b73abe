import { classifyRequest } from './http-metrics';

describe('classifyRequest names a request by a bounded vocabulary, never by its ids', () => {
  test.each([
    ['GET', '/fhir/R4/Patient/abc', 'read', 'Patient', ''],
    ['HEAD', '/fhir/R4/Patient/abc', 'read', 'Patient', ''],
    ['GET', '/fhir/R4/Patient/abc/_history/2', 'vread', 'Patient', ''],
    ['GET', '/fhir/R4/Patient/abc/_history', 'history-instance', 'Patient', ''],
    ['GET', '/fhir/R4/Patient/_history', 'history-type', 'Patient', ''],
    ['GET', '/fhir/R4/_history?_since=2024', 'history-system', '', ''],
    ['GET', '/fhir/R4/Patient?family=Doe', 'search-type', 'Patient', ''],
    ['POST', '/fhir/R4/Patient/_search', 'search-type', 'Patient', ''],
    ['GET', '/fhir/R4?_type=Patient', 'search-system', '', ''],
    ['POST', '/fhir/R4/Patient', 'create', 'Patient', ''],
    ['PUT', '/fhir/R4/Patient/abc', 'update', 'Patient', ''],
    ['PUT', '/fhir/R4/Patient?identifier=x', 'update', 'Patient', ''],
    ['PATCH', '/fhir/R4/Patient/abc', 'patch', 'Patient', ''],
    ['DELETE', '/fhir/R4/Patient/abc', 'delete', 'Patient', ''],
    ['GET', '/fhir/R4/metadata', 'capabilities', '', ''],
    ['GET', '/fhir/R4/Subscription/s1/$status', 'operation', 'Subscription', '$status'],
    ['GET', '/fhir/R4/Patient/p1/$made-up', 'operation', 'Patient', 'unknown'],
    ['GET', '/fhir/R4/JaneDoe/123', 'read', 'unknown', ''],
    ['GET', '/fhir/R4/Patient/a/b/c/d/e', 'other', 'Patient', ''],
    ['POST', '/oauth2/token', 'oauth2-token', '', ''],
    ['GET', '/oauth2/authorize?client_id=x', 'oauth2-authorize', '', ''],
    ['POST', '/admin/clients/abc/disable', 'admin', '', ''],
    ['GET', '/.well-known/jwks.json', 'discovery', '', ''],
    ['GET', '/metrics', 'metrics', '', ''],
    ['GET', '/Jane/Doe/1990-01-01', 'other', '', ''],
  ])('%s %s is %s of %s', (method, url, interaction, resourceType, operation) => {
    expect(classifyRequest(method, url)).toEqual({ method: method, interaction, resource_type: resourceType, operation });
  });

  test('a Bundle posted to the base is a batch or a transaction by its type; an unknown method is other', () => {
    expect(classifyRequest('POST', '/fhir/R4', { resourceType: 'Bundle', type: 'batch' }).interaction).toBe('batch');
    expect(classifyRequest('POST', '/fhir/R4/', { resourceType: 'Bundle', type: 'transaction' }).interaction).toBe('transaction');
    expect(classifyRequest('PROPFIND', '/fhir/R4/Patient/x')).toEqual({ method: 'other', interaction: 'other', resource_type: 'Patient', operation: '' });
  });
});
