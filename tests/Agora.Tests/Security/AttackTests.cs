using System.Net;
using Agora.Security;
using Agora.Tests.Entities;
using CsCheck;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Security;

/// Random and hostile strings (SQL fragments, path traversal, oversized values, control characters) in every query
/// parameter, in the NGSILD-Tenant, Link and Authorization headers and in every id of the NGSI-LD API, in both
/// modes: never a server error, never a change to data the sender may not change, never another tenant's data.
public sealed class AttackTests
{
    private const string Marker = "alpha-only-marker";
    private const string AlphaEntity = $$"""{"id": "urn:ngsi-ld:Building:alpha", "type": "Building", "secret": "{{Marker}}"}""";

    private static readonly Gen<string> Hostile = HostileInputTests.Text;

    // A hostile Link header fails most requests before they reach anything else, so it comes one time in four.
    private static readonly Gen<string?> Link = Gen.Frequency((3, Gen.Const((string?)null)), (1, Hostile.Select(h => (string?)h)));

    [Fact]
    public async Task HostileRequestsInOpenModeNeverFailTheServerNorTouchOtherData()
    {
        await using var app = new AgoraApplication();
        await app.CreateEntityAsync(AlphaEntity, "alpha");
        var before = await app.RetrieveAsync("urn:ngsi-ld:Building:alpha", tenant: "alpha");

        await Gen.Select(Hostile, Hostile, Gen.Select(Hostile, Hostile), Link).SampleAsync(async (a, b, cd, link) =>
        {
            var (c, d) = cd;
            using var client = app.CreateClient();
            foreach (var request in Requests(a, b, c, d, writes: false).Concat(Requests(d, c, b, a, writes: true)))
            {
                request.Headers.TryAddWithoutValidation("NGSILD-Tenant", b);
                if (link is not null)
                {
                    request.Headers.TryAddWithoutValidation("Link", link);
                }
                request.Headers.TryAddWithoutValidation("Authorization", d);
                await CheckAsync(client, request, mayReadAlpha: b.Trim() == "alpha");
            }
        }, iter: 60);

        NgsiLdAssert.JsonEqual(before.ToJsonString(), await app.RetrieveAsync("urn:ngsi-ld:Building:alpha", tenant: "alpha"));
    }

    [Fact]
    public async Task HostileRequestsInSecuredModeNeverFailTheServerNorCrossATenant()
    {
        await using var app = SecuredAgora.Create(("Agora:Security:RateLimit:PermitLimit", "0"));
        using var alphaAdmin = app.Client(app.Key("alpha", Role.Admin), "alpha");
        using var seeded = await alphaAdmin.PostAsync(EntitiesPath, Json(AlphaEntity));
        Assert.Equal(HttpStatusCode.Created, seeded.StatusCode);
        var before = await SecuredAgora.KeyValuesAsync(alphaAdmin, "urn:ngsi-ld:Building:alpha");
        string[] credentials = ["ApiKey " + app.Key("alpha", Role.Consumer), "ApiKey " + app.Key("beta", Role.Provider), "ApiKey " + app.Key("", Role.Admin)];
        // Mostly real credentials and tenants, so that most requests get past the gate to the endpoints.
        var tenants = Gen.Frequency((2, Gen.Const("alpha")), (2, Gen.Const("beta")), (1, Gen.Const("")), (2, Hostile));
        var authorization = Gen.Frequency((5, Gen.OneOf(credentials)), (1, Hostile), (1, Hostile.Select(h => "ApiKey " + h)), (1, Hostile.Select(h => "Bearer " + h)));

        await Gen.Select(Gen.Select(Hostile, Hostile), Gen.Select(Hostile, Hostile), Gen.Select(tenants, authorization), Link).SampleAsync(async (ab, cd, credential, link) =>
        {
            var ((a, b), (c, d)) = (ab, cd);
            var (tenant, auth) = credential;
            using var client = app.CreateClient();
            foreach (var request in Requests(a, b, c, d, writes: false).Concat(Requests(d, c, b, a, writes: true)).Concat(AtAlpha()))
            {
                request.Headers.TryAddWithoutValidation("NGSILD-Tenant", tenant);
                if (link is not null)
                {
                    request.Headers.TryAddWithoutValidation("Link", link);
                }
                request.Headers.TryAddWithoutValidation("Authorization", auth);
                await CheckAsync(client, request, mayReadAlpha: auth == credentials[0] && tenant == "alpha");
            }
        }, iter: 100);

        NgsiLdAssert.JsonEqual(before.ToJsonString(), await SecuredAgora.KeyValuesAsync(alphaAdmin, "urn:ngsi-ld:Building:alpha"));
    }

    // Whatever else happens, the one answer that matters: no 5xx, an NGSI-LD error for every error, and alpha's
    // data only to alpha's own reader.
    private static async Task CheckAsync(HttpClient client, HttpRequestMessage request, bool mayReadAlpha)
    {
        using (request)
        {
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(status < 500, $"{request.Method} {request.RequestUri} answered {status}: {body}");
            if (status >= 400)
            {
                await NgsiLdAssert.AnyProblemAsync(response);
            }
            Assert.True(mayReadAlpha || !body.Contains(Marker, StringComparison.Ordinal), $"{request.Method} {request.RequestUri} leaked alpha's data: {body}");
        }
    }

    // A plain read and a write of alpha's entity: whoever sends them here (alpha's consumer, another tenant's
    // provider or admin, a forged credential), the read reaches alpha's reader only and the write never lands.
    private static IEnumerable<HttpRequestMessage> AtAlpha() =>
    [
        new(HttpMethod.Get, EntityPath("urn:ngsi-ld:Building:alpha")),
        new(HttpMethod.Patch, AttrsPath("urn:ngsi-ld:Building:alpha")) { Content = Json("""{"secret": "overwritten"}""") },
    ];

    private static IEnumerable<HttpRequestMessage> Requests(string a, string b, string c, string d, bool writes)
    {
        var id = HostileInputTests.InPath(a);
        var attr = HostileInputTests.InPath(b);
        string Q(string s) => Uri.EscapeDataString(s);
        if (!writes)
        {
            yield return new(HttpMethod.Get, $"{EntitiesPath}?type={Q(a)}&q={Q(b)}&attrs={Q(c)}&idPattern={Q(d)}&limit={Q(a)}&offset={Q(b)}&count={Q(c)}");
            yield return new(HttpMethod.Get, $"{EntitiesPath}?type=Building&georel={Q(a)}&geometry={Q(b)}&coordinates={Q(c)}&geoproperty={Q(d)}&scopeQ={Q(a)}&orderBy={Q(b)}");
            yield return new(HttpMethod.Get, $"{EntityPath(id)}?attrs={Q(b)}&options={Q(c)}&lang={Q(d)}&pick={Q(a)}&omit={Q(b)}");
            yield return new(HttpMethod.Get, $"{EntityPath("urn:ngsi-ld:Building:alpha")}?options={Q(c)}&attrs={Q(d)}");
            yield return new(HttpMethod.Post, $"/ngsi-ld/v1/entityOperations/query?limit={Q(a)}&options={Q(b)}") { Content = Json($$"""{"type": "Query", "entities": [{"type": "{{Escape(c)}}"}]}""") };
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/types/{Q(attr)}?details={Q(c)}");
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/attributes/{Q(attr)}");
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/subscriptions/{Q(id)}");
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/jsonldContexts/{Q(id)}?details={Q(b)}");
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities?type={Q(a)}&timerel={Q(b)}&timeAt={Q(c)}&endTimeAt={Q(d)}&lastN={Q(a)}&q={Q(b)}");
            yield return new(HttpMethod.Get, $"/ngsi-ld/v1/temporal/entities/{Q(id)}?options={Q(a)}&aggrMethods={Q(b)}&aggrPeriodDuration={Q(c)}&timeproperty={Q(d)}");
            yield return new(HttpMethod.Get, "/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:Building:alpha?options=aggregatedValues&aggrMethods=" + Q(a) + "&aggrPeriodDuration=" + Q(b));
            yield return new(HttpMethod.Post, $"/ngsi-ld/v1/temporal/entityOperations/query?lastN={Q(a)}") { Content = Json($$$"""{"type": "Query", "entities": [{"type": "{{{Escape(b)}}}"}], "temporalQ": {"timerel": "{{{Escape(c)}}}", "timeAt": "{{{Escape(d)}}}"}}""") };
            yield break;
        }
        yield return new(HttpMethod.Post, $"{EntitiesPath}?local={Q(c)}") { Content = Json($$"""{"id": "urn:ngsi-ld:X:{{Escape(a)}}", "type": "{{Escape(b)}}"}""") };
        yield return new(HttpMethod.Patch, $"{AttrsPath(id)}?options={Q(c)}") { Content = Json("""{"height": 1}""") };
        yield return new(HttpMethod.Put, AttrPath(id, attr)) { Content = Json("""{"type": "Property", "value": 1}""") };
        yield return new(HttpMethod.Delete, $"{AttrPath(id, attr)}?datasetId={Q(c)}&deleteAll={Q(d)}");
        yield return new(HttpMethod.Delete, EntityPath(id));
        yield return new(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/delete") { Content = Json($$"""["{{Escape(a)}}", "{{Escape(b)}}"]""") };
        yield return new(HttpMethod.Post, "/ngsi-ld/v1/entityOperations/upsert?options=" + Q(c)) { Content = Json($$"""[{"id": "urn:ngsi-ld:X:{{Escape(a)}}", "type": "{{Escape(d)}}"}]""") };
        yield return new(HttpMethod.Delete, $"/ngsi-ld/v1/subscriptions/{Q(id)}");
        yield return new(HttpMethod.Delete, $"/ngsi-ld/v1/jsonldContexts/{Q(id)}?reload={Q(c)}");
        yield return new(HttpMethod.Post, "/ngsi-ld/v1/temporal/entities") { Content = Json($$"""{"id": "urn:ngsi-ld:X:{{Escape(a)}}", "type": "{{Escape(b)}}", "height": [{"type": "Property", "value": 1, "observedAt": "{{Escape(c)}}"}]}""") };
        yield return new(HttpMethod.Post, $"/ngsi-ld/v1/temporal/entities/{Q(id)}/attrs") { Content = Json($$"""{"{{Escape(b)}}": [{"type": "Property", "value": 1, "observedAt": "{{Escape(c)}}"}]}""") };
        yield return new(HttpMethod.Patch, $"/ngsi-ld/v1/temporal/entities/{Q(id)}/attrs/{Q(attr)}/{Q(HostileInputTests.InPath(d))}") { Content = Json("""{"value": 2}""") };
        yield return new(HttpMethod.Delete, $"/ngsi-ld/v1/temporal/entities/{Q(id)}/attrs/{Q(attr)}?datasetId={Q(c)}&deleteAll={Q(d)}");
        yield return new(HttpMethod.Delete, $"/ngsi-ld/v1/temporal/entities/{Q(id)}");
    }

    private static string Escape(string s)
    {
        var b = new System.Text.StringBuilder(s.Length + 8);
        foreach (var ch in s)
        {
            b.Append(ch is '"' or '\\' || char.IsControl(ch) || char.IsSurrogate(ch) ? $"\\u{(int)ch:x4}" : ch);
        }
        return b.ToString();
    }
}
