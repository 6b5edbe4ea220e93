using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.Discovery.DiscoveryClient;
using static Agora.Tests.NgsiLdAssert;

namespace Agora.Tests.Discovery;

/// GET /types and /types/{type} (clauses 5.7.5, 5.7.6): what kinds of entity a tenant holds.
public sealed class TypeDiscoveryTests
{
    private const string Default = "https://uri.etsi.org/ngsi-ld/default-context/";

    private const string Fleet = """
        [
          {"id": "urn:ngsi-ld:Building:1", "type": "Building", "name": "Depot", "temperature": 21,
           "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:1"}},
          {"id": "urn:ngsi-ld:Building:2", "type": ["Building", "Landmark"], "name": "Tower",
           "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.29, 48.86]}}},
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
    public async Task TypesListsEveryTypeCompactedAsAnEntityTypeList()
    {
        await using var app = await FleetAsync();

        var list = await app.DiscoverAsync("/types");

        Assert.Equal("EntityTypeList", (string?)list["type"]);
        Assert.StartsWith("urn:ngsi-ld:EntityTypeList:", (string?)list["id"]);
        Assert.Equal(["Building", "Landmark", "Vehicle"], Sorted(list["typeList"]));
    }

    [Fact]
    public async Task TypesOfAnEmptyTenantIsAnEmptyList()
    {
        await using var app = new AgoraApplication();

        Assert.Empty(Sorted((await app.DiscoverAsync("/types"))["typeList"]));
    }

    [Fact]
    public async Task TypesAreCompactedInTheTermsOfTheRequestsContext()
    {
        await using var app = new AgoraApplication();
        var writer = await app.HostContextAsync("""{"Bus": "https://example.org/transport#Bus", "Tram": "https://example.org/transport#Tram"}""");
        var reader = await app.HostContextAsync("""{"transport": "https://example.org/transport#"}""");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Bus:1", "type": "Bus"}, {"id": "urn:ngsi-ld:Tram:1", "type": "Tram"}]""", writer);

        var core = await app.DiscoverAsync("/types");
        var own = await app.DiscoverAsync("/types", writer);
        var prefixed = await app.DiscoverAsync("/types", reader);

        Assert.Equal(["https://example.org/transport#Bus", "https://example.org/transport#Tram"], Sorted(core["typeList"]));
        Assert.Equal(["Bus", "Tram"], Sorted(own["typeList"]));
        Assert.Equal(["transport:Bus", "transport:Tram"], Sorted(prefixed["typeList"]));
    }

    [Fact]
    public async Task TypesWithDetailsNameEachTypesAttributes()
    {
        await using var app = await FleetAsync();

        var details = (await app.DiscoverAsync("/types?details=true")).AsArray();

        var building = details.Single(t => (string?)t!["typeName"] == "Building")!;
        Assert.Equal(Default + "Building", (string?)building["id"]);
        Assert.Equal("EntityType", (string?)building["type"]);
        Assert.Equal(["location", "name", "owner", "temperature"], Sorted(building["attributeNames"]));
        var vehicle = details.Single(t => (string?)t!["typeName"] == "Vehicle")!;
        Assert.Equal(["name", "speed"], Sorted(vehicle["attributeNames"]));
        Assert.Equal(3, details.Count);
    }

    [Fact]
    public async Task TypeInfoCountsEntitiesAndDetailsTheirAttributeTypes()
    {
        await using var app = await FleetAsync();

        var info = await app.DiscoverAsync("/types/Building");

        Assert.Equal(Default + "Building", (string?)info["id"]);
        Assert.Equal("EntityTypeInfo", (string?)info["type"]);
        Assert.Equal("Building", (string?)info["typeName"]);
        Assert.Equal(2, (int)info["entityCount"]!);
        var attributes = info["attributeDetails"]!.AsArray().ToDictionary(a => (string)a!["attributeName"]!, a => a!);
        Assert.Equal(["location", "name", "owner", "temperature"], attributes.Keys.Order(StringComparer.Ordinal));
        JsonEqual($$"""{"id": "{{Default}}owner", "type": "Attribute", "attributeName": "owner", "attributeTypes": ["Relationship"]}""", attributes["owner"]);
        Assert.Equal(["GeoProperty"], Sorted(attributes["location"]["attributeTypes"]));
        Assert.Equal(["Property"], Sorted(attributes["name"]["attributeTypes"]));
    }

    [Fact]
    public async Task TypeInfoListsEveryAttributeTypeOneAttributeHasWithinTheType()
    {
        await using var app = await FleetAsync();
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Vehicle:2", "type": "Vehicle", "name": "Truck"}]""");

        var info = await app.DiscoverAsync("/types/Vehicle");

        Assert.Equal(2, (int)info["entityCount"]!);
        var name = info["attributeDetails"]!.AsArray().Single(a => (string?)a!["attributeName"] == "name")!;
        Assert.Equal(["LanguageProperty", "Property"], Sorted(name["attributeTypes"]));
    }

    [Fact]
    public async Task TypeInfoAcceptsTheExpandedTypeAndTheRequestsTerms()
    {
        await using var app = await FleetAsync();
        var link = await app.HostContextAsync($$"""{"Bldg": "{{Default}}Building"}""");

        var byIri = await app.DiscoverAsync("/types/" + Uri.EscapeDataString(Default + "Building"));
        var byTerm = await app.DiscoverAsync("/types/Bldg", link);

        Assert.Equal(2, (int)byIri["entityCount"]!);
        Assert.Equal("Bldg", (string?)byTerm["typeName"]);
        Assert.Equal(2, (int)byTerm["entityCount"]!);
    }

    [Fact]
    public async Task AnUnknownTypeIsResourceNotFound()
    {
        await using var app = await FleetAsync();

        using var response = await app.GetAsync("/types/Submarine");

        await ProblemAsync(response, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task ATypeWhoseLastEntityIsDeletedIsNoLongerListed()
    {
        await using var app = await FleetAsync();
        using var client = app.CreateClient();
        using var deleted = await client.DeleteAsync(AgoraApplication.EntityPath("urn:ngsi-ld:Vehicle:1"));

        var list = await app.DiscoverAsync("/types");
        using var info = await app.GetAsync("/types/Vehicle");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(["Building", "Landmark"], Sorted(list["typeList"]));
        await ProblemAsync(info, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task TypesAreDiscoveredPerTenant()
    {
        await using var app = new AgoraApplication();
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Bus:1", "type": "Bus", "seats": 40}]""", tenant: "city-a");
        await app.SeedAsync("""[{"id": "urn:ngsi-ld:Ferry:1", "type": "Ferry"}]""", tenant: "city-b");

        Assert.Equal(["Bus"], Sorted((await app.DiscoverAsync("/types", tenant: "city-a"))["typeList"]));
        Assert.Equal(["Ferry"], Sorted((await app.DiscoverAsync("/types", tenant: "city-b"))["typeList"]));
        Assert.Empty(Sorted((await app.DiscoverAsync("/types"))["typeList"]));
        using var elsewhere = await app.GetAsync("/types/Bus", tenant: "city-b");
        await ProblemAsync(elsewhere, HttpStatusCode.NotFound, "ResourceNotFound");
    }

    [Fact]
    public async Task TypesOfAnUnknownTenantIsNonexistentTenant()
    {
        await using var app = await FleetAsync();

        using var list = await app.GetAsync("/types", tenant: "nowhere");
        using var info = await app.GetAsync("/types/Building", tenant: "nowhere");

        await ProblemAsync(list, HttpStatusCode.NotFound, "NonexistentTenant");
        await ProblemAsync(info, HttpStatusCode.NotFound, "NonexistentTenant");
    }

    [Fact]
    public async Task AnInvalidDetailsValueOrTypeNameIsBadRequestData()
    {
        await using var app = await FleetAsync();

        using var details = await app.GetAsync("/types?details=maybe");
        using var name = await app.GetAsync("/types/" + Uri.EscapeDataString("Not a type"));

        await ProblemAsync(details, HttpStatusCode.BadRequest, "BadRequestData");
        await ProblemAsync(name, HttpStatusCode.BadRequest, "BadRequestData");
    }
}
