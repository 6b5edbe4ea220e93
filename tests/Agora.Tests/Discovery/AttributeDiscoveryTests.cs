using System.Net;
using static Agora.Tests.Discovery.DiscoveryClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Discovery;

/// GET /attributes and /attributes/{attrId} (clauses 5.7.7, 5.7.8): which attributes a tenant's entities have.
public sealed class AttributeDiscoveryTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";

    private const string Fleet = """
        [
          {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": "Depot", "temperature": 21,
           "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}},
          {"id": "urn:ngsi-ld:Building:2", "type": "Building", "name": "Tower"},
          {"id": "urn:ngsi-ld:Vehicle:1", "type": "Vehicle", "speed": 80,
           "name": {"type": "LanguageProperty", "languageMap": {"en": "Van"}}}
        ]
        """;

    private static async Task<AgoraApplication> FleetAsync()
    {
        var app = new AgoraApplication();
        await app.SeedAsync(Fleet);
        return app;
    }

    [Fact]
    public async Task AttributesListsEveryAttributeCompactedAsAnAttributeList()
    {
        await using var app = await FleetAsync();

        var list = await app.DiscoverAsync("/attributes");

        Assert.Equal("AttributeList", (string?)list["type"]);
        Assert.StartsWith("urn:ngsi-ld:AttributeList:", (string?)list["id"]);
        Assert.Equal(["name", "owner", "speed", "temperature"], Sorted(list["attributeList"]));
    }

    [Fact]
    public async Task AttributesWithDetailsNameTheTypesHavingEach()
    {
        await using var app = await FleetAsync();

        var details = (await app.DiscoverAsync("/attributes?details=true")).AsArray()
            .ToDictionary(a => (string)a!["attributeName"]!, a => a!);

        Assert.Equal(["name", "owner", "speed", "temperature"], details.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(Default + "name", (string?)details["name"]["id"]);
        Assert.Equal("Attribute", (string?)details["name"]["type"]);
        Assert.Equal(["Building", "Vehicle"], Sorted(details["name"]["typeNames"]));
        Assert.Equal(["Vehicle"], Sorted(details["speed"]["typeNames"]));
    }

    [Fact]
    public async Task AttributeInfoCountsInstancesAndNamesTheirTypes()
    {
        await using var app = await FleetAsync();

        var name = await app.DiscoverAsync("/attributes/name");
        var owner = await app.DiscoverAsync("/attributes/owner");

        Assert.Equal(Default + "name", (string?)name["id"]);
        Assert.Equal("Attribute", (string?)name["type"]);
        Assert.Equal("name", (string?)name["attributeName"]);
        Assert.Equal(3, (int)name["attributeCount"]!);
        Assert.Equal(["LanguageProperty", "Property"], Sorted(name["attributeTypes"]));
        Assert.Equal(["Building", "Vehicle"], Sorted(name["typeNames"]));
        JsonEqual($$"""
            {"id": "{{Default}}owner", "type": "Attribute", "attributeName": "owner", "attributeCount": 1,
             "attributeTypes": ["Relationship"], "typeNames": ["Building"]}
            """, owner);
    }

    [Fact]
    public async Task AttributesAreCompactedInTheTermsOfTheRequestsContext()
    {
        await using var app = new AgoraApplication();
        var link = await app.HostContextAsync("""{"Bus": "https://example.org/transport#Bus", "seats": "https://example.org/transport#seats"}""");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "seats": 40}]""", link);

        var core = await app.DiscoverAsync("/attributes");
        var own = await app.DiscoverAsync("/attributes", link);
        var info = await app.DiscoverAsync("/attributes/seats", link);
        using var unknownToCore = await app.GetAsync("/attributes/seats");

        Assert.Equal(["https://example.org/transport#seats"], Sorted(core["attributeList"]));
        Assert.Equal(["seats"], Sorted(own["attributeList"]));
        Assert.Equal("seats", (string?)info["attributeName"]);
        Assert.Equal(["Bus"], Sorted(info["typeNames"]));
        // Without the context, "seats" expands to the default vocabulary: a different attribute, which no entity has.
        await ProblemAsync(unknownToCore, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task AnUnknownAttributeIsResourceNotFound()
    {
        await using var app = await FleetAsync();

        using var response = await app.GetAsync("/attributes/colour");

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task AnAttributeDeletedFromEveryEntityIsNoLongerListed()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();
        using var deleted = await client.DeleteAsync(AgoraApplication.AttrPath("urn:ngsi-ld:Building:1", "temperature"));

        var list = await app.DiscoverAsync("/attributes");
        var name = await app.DiscoverAsync("/attributes/name");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["name", "owner", "speed"], Sorted(list["attributeList"]));
        Assert.Equal(3, (int)name["attributeCount"]!);
    }

    [Fact]
    public async Task AttributesAreDiscoveredPerTenant()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "seats": 40}]""", tenant: "city-a");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Ferry:1", "type": "Ferry", "draught": 3}]""", tenant: "city-b");

        Assert.Equal(["seats"], Sorted((await app.DiscoverAsync("/attributes", tenant: "city-a"))["attributeList"]));
        Assert.Equal(["draught"], Sorted((await app.DiscoverAsync("/attributes", tenant: "city-b"))["attributeList"]));
        using var elsewhere = await app.GetAsync("/attributes/seats", tenant: "city-b");
        using var unknown = await app.GetAsync("/attributes", tenant: "nowhere");
        await ProblemAsync(elsewhere, HttpStatusCode.NotFound, "ResourceNotFound");
        await ProblemAsync(unknown, HttpStatusCode.NotFound, "NonexistentTenant");
    }
}
