using System.Net;
using System.Text.Json.Nodes;
using static Agora.Tests.NgsiLdAssert;
using static Agora.Tests.Registrations.RegistrationClient;

namespace Agora.Tests.Registrations;

public sealed class RegistrationQueryTests
{
    private const string Buildings = "urn:ngsi-ld:ContextSourceRegistration:buildings";
    private const string Parking = "urn:ngsi-ld:ContextSourceRegistration:parking";
    private const string Anything = "urn:ngsi-ld:ContextSourceRegistration:anything";

    /// Three sources: Buildings' name and owner near Paris; one parking garage's spots near Lyon, with an
    /// extra property; and a source of any entity's temperature, observed through 2020.
    private static async Task<AgoraApplication> ThreeSourcesAsync()
    {
        var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Buildings, """, "location": {"type": "Point", "coordinates": [2.35, 48.85]}, "provider": "city" """));
        await RegisterAsync(app, Registration(Parking, """, "location": {"type": "Point", "coordinates": [4.83, 45.76]}, "provider": "operator", "capacity": 120 """,
            """[{"entities": [{"type": "OffStreetParking", "id": "urn:ngsi-ld:OffStreetParking:7"}], "propertyNames": ["availableSpots"]}]"""));
        await RegisterAsync(app, Registration(Anything, """, "observationInterval": {"startAt": "2020-01-01T00:00:00Z", "endAt": "2021-01-01T00:00:00Z"}, "managementInterval": {"startAt": "2024-01-01T00:00:00Z"} """,
            """[{"propertyNames": ["temperature"]}]"""));
        return app;
    }

    [Theory]
    [InlineData("?type=Building", new[] { Buildings, Anything })]
    [InlineData("?type=OffStreetParking", new[] { Parking, Anything })]
    [InlineData("?type=Building,OffStreetParking", new[] { Buildings, Parking, Anything })]
    [InlineData("?attrs=name", new[] { Buildings })]
    [InlineData("?attrs=temperature,availableSpots", new[] { Parking, Anything })]
    [InlineData("?type=Building&attrs=temperature", new[] { Anything })]
    [InlineData("?type=Building&attrs=", new[] { Buildings, Anything })]
    [InlineData("?id=urn:ngsi-ld:OffStreetParking:7", new[] { Buildings, Parking, Anything })]
    [InlineData("?id=urn:ngsi-ld:OffStreetParking:8&type=OffStreetParking", new[] { Anything })]
    [InlineData("?idPattern=.*Parking:7$&type=OffStreetParking", new[] { Parking, Anything })]
    [InlineData("?idPattern=.*Parking:9$&type=OffStreetParking", new[] { Anything })]
    public async Task RegistrationsMatchWhenOneOfTheirInfosCouldSupplyTheEntities(string query, string[] expected)
    {
        await using var app = await ThreeSourcesAsync();

        Assert.Equal(expected, await QueryIdsAsync(app, query));
    }

    [Theory]
    [InlineData("?csf=provider==\"city\"", new[] { Buildings })]
    [InlineData("?q=provider==\"operator\"", new[] { Parking })]
    [InlineData("?csf=capacity>100", new[] { Parking })]
    [InlineData("?csf=provider", new[] { Buildings, Parking })]
    [InlineData("?csf=endpoint==\"http://source.example.org:1026\";!provider", new[] { Anything })]
    public async Task CsfFiltersOnTheRegistrationsOwnProperties(string query, string[] expected)
    {
        await using var app = await ThreeSourcesAsync();

        Assert.Equal(expected, await QueryIdsAsync(app, query));
    }

    [Theory]
    [InlineData("?scopeQ=/Paris/%23", new[] { Buildings })]
    [InlineData("?type=OffStreetParking&scopeQ=/Lyon", new[] { Parking })]
    [InlineData("?scopeQ=/Paris/Centre,/Lyon", new[] { Buildings, Parking })]
    [InlineData("?scopeQ=/Berlin", new string[0])]
    public async Task ScopeQFiltersOnTheRegistrationsScope(string query, string[] expected)
    {
        await using var app = new AgoraApplication();
        await RegisterAsync(app, Registration(Buildings, """, "scope": "/Paris/Centre" """));
        await RegisterAsync(app, Registration(Parking, """, "scope": ["/Lyon", "/Rhone"] """,
            """[{"entities": [{"type": "OffStreetParking"}]}]"""));
        await RegisterAsync(app, Registration(Anything));

        Assert.Equal(expected, await QueryIdsAsync(app, query));
    }

    [Theory]
    [InlineData("?georel=near;maxDistance==10000&geometry=Point&coordinates=[2.34,48.86]", new[] { Buildings })]
    [InlineData("?georel=within&geometry=Polygon&coordinates=[[[0,40],[10,40],[10,50],[0,50],[0,40]]]", new[] { Buildings, Parking })]
    [InlineData("?georel=within&geometry=Polygon&coordinates=[[[0,40],[10,40],[10,50],[0,50],[0,40]]]&geoproperty=observationSpace", new string[0])]
    public async Task GeoQueriesTestTheRegistrationsGeometry(string query, string[] expected)
    {
        await using var app = await ThreeSourcesAsync();

        Assert.Equal(expected, await QueryIdsAsync(app, query));
    }

    [Theory]
    [InlineData("?timerel=before&timeAt=2020-06-01T00:00:00Z", new[] { Anything })]
    [InlineData("?timerel=after&timeAt=2021-06-01T00:00:00Z", new string[0])]
    [InlineData("?timerel=between&timeAt=2019-01-01T00:00:00Z&endTimeAt=2020-01-02T00:00:00Z", new[] { Anything })]
    [InlineData("?timerel=after&timeAt=2025-01-01T00:00:00Z&timeproperty=createdAt", new[] { Anything })]
    public async Task TemporalQueriesTestTheRegistrationsIntervals(string query, string[] expected)
    {
        await using var app = await ThreeSourcesAsync();

        Assert.Equal(expected, await QueryIdsAsync(app, query));
    }

    [Theory]
    [InlineData("")]
    [InlineData("?id=notAUri")]
    [InlineData("?type=Building&csf=(provider")]
    [InlineData("?type=Building&georel=within")]
    [InlineData("?type=Building&georel=near;maxDistance==1&geometry=Point&coordinates=[1,2]&geoproperty=position")]
    [InlineData("?type=Building&timerel=before")]
    [InlineData("?type=Building&limit=-1")]
    public async Task AnInvalidQueryIsBadRequestData(string query)
    {
        await using var app = await ThreeSourcesAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(RegistrationsPath + query);

        await ProblemAsync(response, HttpStatusCode.BadRequest, "BadRequestData");
    }

    [Fact]
    public async Task QueriesPageCountAndLink()
    {
        await using var app = await ThreeSourcesAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(RegistrationsPath + "?type=Building,OffStreetParking&limit=1&offset=1&count=true");
        var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("NGSILD-Results-Count").Single());
        Assert.Equal([Parking], page.Select(r => (string?)r!["id"]));
        var links = response.Headers.GetValues("Link").ToList();
        Assert.Contains("</ngsi-ld/v1/csourceRegistrations?type=Building%2COffStreetParking&count=true&limit=1&offset=0>;rel=\"prev\";type=\"application/json\"", links);
        Assert.Contains("</ngsi-ld/v1/csourceRegistrations?type=Building%2COffStreetParking&count=true&limit=1&offset=2>;rel=\"next\";type=\"application/json\"", links);
    }

    [Fact]
    public async Task QueriesSeeOnlyTheirTenant()
    {
        await using var app = await ThreeSourcesAsync();
        await RegisterAsync(app, Registration("urn:ngsi-ld:ContextSourceRegistration:north"), tenant: "north");
        using var north = app.CreateClient("north");

        using var response = await north.GetAsync(RegistrationsPath + "?type=Building");
        var ids = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(r => (string?)r!["id"]);

        Assert.Equal(["urn:ngsi-ld:ContextSourceRegistration:north"], ids);
    }

    [Fact]
    public async Task QueriedRegistrationsAreCompactedAndShowSysAttrsOnRequest()
    {
        await using var app = await ThreeSourcesAsync();
        using var client = app.CreateClient();

        using var response = await client.GetAsync(RegistrationsPath + "?attrs=name&options=sysAttrs");
        var only = Assert.Single(JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray())!.AsObject();

        Assert.Equal("city", (string?)only["provider"]);
        Assert.True(only.ContainsKey("createdAt"));
        JsonEqual("""[{"entities": [{"type": "Building"}], "propertyNames": ["name"], "relationshipNames": ["owner"]}]""", only["information"]);
    }
}
