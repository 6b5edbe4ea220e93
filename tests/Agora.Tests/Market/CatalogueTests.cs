using System.Net;
using System.Text.Json.Nodes;
using Agora.JsonLd;
using Agora.Tests.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Agora.Tests.Market;

/// The public DCAT-AP 3 catalogue of published offerings, in JSON-LD.
public sealed class CatalogueTests
{
    private const string AirQuality = """{"name": "Air quality", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"]}""";

    private static async Task<JsonObject> CatalogueAsync(MarketAgora market)
    {
        using var anonymous = market.App.CreateClient();
        using var response = await anonymous.GetAsync("/catalog");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/ld+json", response.Content.Headers.ContentType?.MediaType);
        return (await SecuredAgora.JsonAsync(response)).AsObject();
    }

    private static JsonObject DatasetOf(JsonObject catalogue, string offering) =>
        catalogue["dcat:dataset"]!.AsArray().Single(d => (string?)d!["dct:identifier"] == offering)!.AsObject();

    [Fact]
    public async Task TheCatalogueHasEveryPublishedOfferingAndNoClosedOrUnpublishedOne()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var approval = await market.OfferingAsync(source);
        var open = await market.OfferingAsync(source, "\"accessMode\": \"open\"");
        await market.OfferingAsync(source, "\"accessMode\": \"closed\"");
        await market.OfferingAsync(source, publish: false);
        var retired = await market.OfferingAsync(source);
        (await market.Admin.PostAsync($"{MarketAgora.Base}/offerings/{retired}/retire", null)).Dispose();

        var catalogue = await CatalogueAsync(market);

        Assert.Equal("dcat:Catalog", (string?)catalogue["@type"]);
        Assert.Equal(new[] { approval, open }.Order(), catalogue["dcat:dataset"]!.AsArray().Select(d => (string)d!["dct:identifier"]!).Order());
    }

    [Fact]
    public async Task EveryTermOfTheCatalogueExpandsWithItsInlineContext()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        await market.OfferingAsync(source, """
            "licence": {"purpose": "research", "region": "ES-MD", "period": {"end": "2036-01-01T00:00:00Z"}},
            "pricePlan": {"type": "recurring", "currency": "EUR", "amount": 30, "period": "P1M"}, "quotas": {"callsPerDay": 100}
            """);
        var catalogue = await CatalogueAsync(market);
        var context = await market.App.Services.GetRequiredService<ContextResolver>().ResolveAsync(catalogue["@context"], "", CancellationToken.None);
        string[] namespaces = ["http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/", "http://www.w3.org/ns/odrl/2/", "http://www.w3.org/2001/XMLSchema#", "http://xmlns.com/foaf/0.1/"];

        var terms = new List<string>();
        void Walk(JsonNode? node)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        if (key == "@context")
                        {
                            continue;
                        }
                        if (!key.StartsWith('@'))
                        {
                            terms.Add(key);
                        }
                        if (key is "@type" && value is JsonValue type)
                        {
                            terms.Add((string)type!);
                        }
                        Walk(value);
                    }
                    break;
                case JsonArray a:
                    a.ToList().ForEach(Walk);
                    break;
            }
        }
        Walk(catalogue);

        Assert.Equal("http://www.w3.org/ns/dcat#Dataset", context.ExpandTerm("dcat:Dataset"));
        Assert.Equal("http://www.w3.org/ns/odrl/2/hasPolicy", context.ExpandTerm("odrl:hasPolicy"));
        Assert.Contains("odrl:hasPolicy", terms);
        Assert.Contains("dcat:endpointURL", terms);
        Assert.All(terms.Distinct(), term => Assert.Contains(namespaces, ns => context.ExpandTerm(term).StartsWith(ns, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ADatasetCarriesItsLicenceItsTermsAndTheNgsiLdEndpoint()
    {
        await using var market = new MarketAgora();
        var source = await market.DataSourceAsync(AirQuality);
        var spdx = await market.OfferingAsync(source, """ "quotas": {"callsPerDay": 100}, "description": "NO2 and PM10 in Centro" """);
        var custom = await market.OfferingAsync(source, """
            "licence": {"purpose": "research", "region": "ES-MD", "resale": false},
            "pricePlan": {"type": "perUse", "currency": "EUR", "amount": 0.01}
            """);
        var catalogue = await CatalogueAsync(market);
        using var anonymous = market.App.CreateClient();
        using var alone = await anonymous.GetAsync($"/catalog/datasets/{spdx}");
        using var missing = await anonymous.GetAsync("/catalog/datasets/of-nothere");

        var first = DatasetOf(catalogue, spdx);
        Assert.Equal("https://spdx.org/licenses/CC-BY-4.0", (string?)first["dct:license"]!["@id"]);
        Assert.Equal("NO2 and PM10 in Centro", (string?)first["dct:description"]);
        var offer = first["odrl:hasPolicy"]!;
        Assert.Equal("odrl:Offer", (string?)offer["@type"]);
        var count = offer["odrl:permission"]![0]!["odrl:constraint"]![0]!;
        Assert.Equal("odrl:count", (string?)count["odrl:leftOperand"]!["@id"]);
        Assert.Equal("100", (string?)count["odrl:rightOperand"]!["@value"]);
        var service = catalogue["dcat:service"]![0]!;
        Assert.Equal("dcat:DataService", (string?)service["@type"]);
        Assert.EndsWith("/ngsi-ld/v1", (string?)service["dcat:endpointURL"]!["@id"], StringComparison.Ordinal);
        Assert.Equal((string?)service["@id"], (string?)first["dcat:distribution"]![0]!["dcat:accessService"]!["@id"]);

        var second = DatasetOf(catalogue, custom)["odrl:hasPolicy"]!;
        var constraints = second["odrl:permission"]![0]!["odrl:constraint"]!.AsArray();
        Assert.Contains(constraints, c => (string?)c!["odrl:leftOperand"]!["@id"] == "odrl:purpose" && (string?)c["odrl:rightOperand"] == "research");
        Assert.Contains(constraints, c => (string?)c!["odrl:leftOperand"]!["@id"] == "odrl:spatial" && (string?)c["odrl:rightOperand"] == "ES-MD");
        Assert.Equal("odrl:compensate", (string?)second["odrl:permission"]![0]!["odrl:duty"]![0]!["odrl:action"]!["@id"]);
        Assert.Equal("odrl:sell", (string?)second["odrl:prohibition"]![0]!["odrl:action"]!["@id"]);

        var single = (await SecuredAgora.JsonAsync(alone)).AsObject();
        Assert.NotNull(single["@context"]);
        Assert.Equal((string?)first["@id"], (string?)single["@id"]);
        await NgsiLdAssert.ProblemAsync(missing, HttpStatusCode.NotFound);
    }
}
