using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Agora.Security;
using Agora.Tests.Security;
using static Agora.Tests.AgoraApplication;

namespace Agora.Tests.Market;

/// A key issued for an agreement reads what the agreement covers and nothing else, within its quota.
public sealed class EnforcementTests
{
    private const string Base = MarketAgora.Base;
    private const string Temporal = "/ngsi-ld/v1/temporal/entities";
    internal const string Inside = "urn:ngsi-ld:AirQualityObserved:centro";
    internal const string Outside = "urn:ngsi-ld:AirQualityObserved:vallecas";
    private const string Weather = "urn:ngsi-ld:WeatherObserved:centro";

    internal static readonly string Source = $$$"""
        {"name": "Centro", "entityTypes": ["AirQualityObserved"], "attributes": ["NO2", "PM10"],
         "area": {{{MarketAgora.District}}}, "history": {"allowed": true, "window": "P30D"}}
        """;

    // Temporal geo-queries place an entity by the location instances inside the time window, so the stations
    // report their location with an observation time, as sensors do.
    private static readonly string Now = DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// Two air quality stations (one in the district, one outside) and a weather station in the district, each
    /// with three attributes, written by the city's admin.
    internal static async Task<MarketAgora> CityAsync(params (string Key, string Value)[] settings)
    {
        var market = new MarketAgora("", settings);
        foreach (var (id, type, lon) in new[] { (Inside, "AirQualityObserved", -3.70), (Outside, "AirQualityObserved", -3.65), (Weather, "WeatherObserved", -3.70) })
        {
            using var created = await market.Admin.PostAsync(EntitiesPath, Json($$$"""
                {"id": "{{{id}}}", "type": "{{{type}}}", "NO2": 41, "PM10": 18, "temperature": 21.5,
                 "location": {"type": "GeoProperty", "observedAt": "{{{Now}}}", "value": {"type": "Point", "coordinates": [{{{lon.ToString(CultureInfo.InvariantCulture)}}}, 40.42]} } }
                """));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        return market;
    }

    internal static async Task<JsonNode> OkAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    internal static string[] Ids(JsonNode answer) => [.. answer.AsArray().Select(e => (string)e!["id"]!)];

    internal static string[] Members(JsonNode entity) => [.. entity.AsObject().Select(p => p.Key).Order()];

    [Fact]
    public async Task AQueryReturnsOnlyTheCoveredEntitiesAndAttributes()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var byType = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
        var unasked = await OkAsync(await consumer.GetAsync(EntitiesPath + "?attrs=NO2,temperature&options=keyValues"));
        using var counted = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&count=true&limit=0");

        Assert.Equal([Inside], Ids(byType));
        Assert.Equal(["NO2", "PM10", "id", "type"], Members(byType[0]!));
        Assert.Equal([Inside], Ids(unasked));
        Assert.Equal(["NO2", "id", "type"], Members(unasked[0]!));
        Assert.Equal("1", counted.Headers.GetValues("NGSILD-Results-Count").Single());
    }

    [Fact]
    public async Task PickAndOmitAreNarrowedToTheCoveredAttributes()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var picked = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&pick=id,NO2,temperature"));
        var omitted = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&omit=PM10"));
        var sorted = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&orderBy=NO2;desc"));

        Assert.Equal(["NO2", "id"], Members(picked[0]!));
        Assert.Equal(["NO2", "id", "type"], Members(omitted[0]!));
        Assert.Equal([Inside], Ids(sorted));
    }

    [Fact]
    public async Task AQueryThroughAPostQueryObjectIsNarrowedTheSameWay()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var answer = await OkAsync(await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json("""
            {"type": "Query", "entities": [{"type": "AirQualityObserved"}, {"type": "WeatherObserved"}], "attrs": ["PM10", "temperature"]}
            """)));
        using var outside = await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json("""{"type": "Query", "entities": [{"type": "WeatherObserved"}]}"""));

        Assert.Equal([Inside], Ids(answer));
        Assert.Equal(["PM10", "id", "type"], Members(answer[0]!));
        var problem = await NgsiLdAssert.ProblemAsync(outside, HttpStatusCode.Forbidden);
        Assert.Contains("WeatherObserved", (string?)problem["detail"], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("?type=WeatherObserved", "WeatherObserved")]
    [InlineData("?type=AirQualityObserved&attrs=temperature", "temperature")]
    [InlineData("?type=AirQualityObserved&q=temperature>20", "temperature")]
    [InlineData("?type=AirQualityObserved&orderBy=temperature;desc", "temperature")]
    [InlineData("?type=AirQualityObserved&georel=near;maxDistance==100&geometry=Point&coordinates=[-3.7,40.42]", "area")]
    public async Task AReadEntirelyOutsideTheAgreementIsForbiddenNamingWhatIsNotCovered(string query, string named)
    {
        await using var market = await CityAsync();
        var (agreement, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        using var response = await consumer.GetAsync(EntitiesPath + query);
        using var audit = await market.Admin.GetAsync("/admin/v1/audit?decision=denied");

        var problem = await NgsiLdAssert.ProblemAsync(response, HttpStatusCode.Forbidden, "AccessDenied");
        Assert.Contains(named, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Contains(agreement, await audit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type": "Query", "entities": [{"type": 7}]}""")]
    [InlineData("""{"type": "Query", "entities": [3, "x"], "q": 5}""")]
    [InlineData("""{"type": "Query", "entities": [{"type": "AirQualityObserved", "idPattern": ["x"]}]}""")]
    [InlineData("""{"type": "Query", "attrs": [1, 2]}""")]
    [InlineData("""{"type": "Query", "pick": {"a": 1}}""")]
    [InlineData("""[1, 2]""")]
    [InlineData("""{"type": """)]
    public async Task ABadQueryObjectThroughAnAgreementIsAClientErrorNeverAServerError(string body)
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        using var response = await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json(body));

        await NgsiLdAssert.AnyProblemAsync(response);
    }

    [Fact]
    public async Task AGeoQueryOfTheConsumersOwnIsCutToTheAgreementsArea()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);
        const string Both = "[[[-3.72,40.40],[-3.60,40.40],[-3.60,40.44],[-3.72,40.44],[-3.72,40.40]]]";
        const string Elsewhere = "[[[-3.66,40.40],[-3.64,40.40],[-3.64,40.44],[-3.66,40.44],[-3.66,40.40]]]";

        var within = await OkAsync(await consumer.GetAsync($"{EntitiesPath}?type=AirQualityObserved&georel=within&geometry=Polygon&coordinates={Uri.EscapeDataString(Both)}"));
        var posted = await OkAsync(await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query", Json($$"""
            {"type": "Query", "entities": [{"type": "AirQualityObserved"}], "geoQ": {"georel": "intersects", "geometry": "Polygon", "coordinates": {{Both}} } }
            """)));
        using var elsewhere = await consumer.GetAsync($"{EntitiesPath}?type=AirQualityObserved&georel=intersects&geometry=Polygon&coordinates={Uri.EscapeDataString(Elsewhere)}");

        Assert.Equal([Inside], Ids(within));
        Assert.Equal([Inside], Ids(posted));
        Assert.Contains("outside the agreement's area", (string?)(await NgsiLdAssert.ProblemAsync(elsewhere, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrievingAnEntityOutsideTheAgreementIsForbiddenAndInsideItIsProjected()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var inside = await OkAsync(await consumer.GetAsync(EntityPath(Inside)));
        using var outside = await consumer.GetAsync(EntityPath(Outside));
        using var weather = await consumer.GetAsync(EntityPath(Weather));
        using var missing = await consumer.GetAsync(EntityPath("urn:ngsi-ld:AirQualityObserved:nowhere"));

        Assert.Equal(["NO2", "PM10", "id", "type"], Members(inside));
        Assert.Contains("area", (string?)(await NgsiLdAssert.ProblemAsync(outside, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        Assert.Contains("WeatherObserved", (string?)(await NgsiLdAssert.ProblemAsync(weather, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        await NgsiLdAssert.ProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DiscoveryShowsOnlyTheCoveredTypesAndAttributes()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var types = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types"));
        var attributes = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/attributes"));
        var details = await OkAsync(await consumer.GetAsync("/ngsi-ld/v1/types?details=true"));
        using var weather = await consumer.GetAsync("/ngsi-ld/v1/types/WeatherObserved");
        using var temperature = await consumer.GetAsync("/ngsi-ld/v1/attributes/temperature");

        NgsiLdAssert.JsonEqual("""["AirQualityObserved"]""", types["typeList"]);
        NgsiLdAssert.JsonEqual("""["NO2", "PM10"]""", attributes["attributeList"]);
        NgsiLdAssert.JsonEqual("""["NO2", "PM10"]""", details[0]!["attributeNames"]);
        await NgsiLdAssert.ProblemAsync(weather, HttpStatusCode.Forbidden);
        await NgsiLdAssert.ProblemAsync(temperature, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task TemporalReadsStopAtTheHistoryWindow()
    {
        await using var market = await CityAsync();
        var now = DateTimeOffset.UtcNow;
        string Ago(int days) => now.AddDays(-days).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using var history = await market.Admin.PostAsync($"{Temporal}/{Uri.EscapeDataString(Inside)}/attrs", Json($$"""
            {"NO2": [{"type": "Property", "value": 90, "observedAt": "{{Ago(40)}}"}, {"type": "Property", "value": 30, "observedAt": "{{Ago(10)}}"}],
             "temperature": [{"type": "Property", "value": 5, "observedAt": "{{Ago(10)}}"}]}
            """));
        Assert.Equal(HttpStatusCode.NoContent, history.StatusCode);
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var entity = await OkAsync(await consumer.GetAsync($"{Temporal}/{Uri.EscapeDataString(Inside)}?options=temporalValues"));
        var query = await OkAsync(await consumer.GetAsync($"{Temporal}?type=AirQualityObserved&timerel=after&timeAt={Ago(60)}&options=temporalValues"));
        using var tooOld = await consumer.GetAsync($"{Temporal}?type=AirQualityObserved&timerel=before&timeAt={Ago(31)}");

        Assert.DoesNotContain(entity["NO2"]!["values"]!.AsArray(), v => (int)v![0]! == 90);
        Assert.Contains(entity["NO2"]!["values"]!.AsArray(), v => (int)v![0]! == 30);
        Assert.Null(entity["temperature"]);
        Assert.Equal([Inside], Ids(query));
        Assert.DoesNotContain(query[0]!["NO2"]!["values"]!.AsArray(), v => (int)v![0]! == 90);
        Assert.Contains("history", (string?)(await NgsiLdAssert.ProblemAsync(tooOld, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCallAfterTheQuotaIsTooManyRequestsUntilMidnightAndUsageIsCounted()
    {
        await using var market = await CityAsync();
        var (agreement, key) = await market.AgreementAsync(Source, "\"quotas\": {\"callsPerDay\": 3}");
        using var consumer = market.Consumer(key);

        for (var i = 0; i < 3; i++)
        {
            await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
        }
        using var fourth = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        var usage = await OkAsync(await consumer.GetAsync($"{Base}/agreements/{agreement}/usage"));

        await NgsiLdAssert.ProblemAsync(fourth, HttpStatusCode.TooManyRequests);
        var retryAfter = int.Parse(fourth.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture);
        var midnight = DateTimeOffset.UtcNow.UtcDateTime.Date.AddDays(1);
        Assert.InRange(retryAfter, 1, (int)Math.Ceiling((midnight - DateTime.UtcNow).TotalSeconds) + 2);
        var today = usage["days"]!.AsArray().Single()!;
        Assert.Equal(3, (int)today["calls"]!);
        Assert.Equal(3, (int)today["entities"]!);
        Assert.True((long)today["bytes"]! > 100);
    }

    [Fact]
    public async Task CallsMadeAtOnceNeverPassTheQuotaAndAreAllCounted()
    {
        await using var market = await CityAsync();
        var (agreement, key) = await market.AgreementAsync(Source, "\"quotas\": {\"callsPerDay\": 10}");
        using var consumer = market.Consumer(key);

        var answers = await Task.WhenAll(Enumerable.Range(0, 30).Select(async _ =>
        {
            using var response = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
            return response.StatusCode;
        }));
        var usage = await OkAsync(await consumer.GetAsync($"{Base}/agreements/{agreement}/usage"));

        Assert.Equal(10, answers.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(20, answers.Count(s => s == HttpStatusCode.TooManyRequests));
        var today = usage["days"]!.AsArray().Single()!;
        Assert.Equal(10, (int)today["calls"]!);
        Assert.Equal(10, (int)today["entities"]!);
    }

    [Fact]
    public async Task UsageCountedJustBeforeAStopIsKeptAndTheQuotaGoesOnAfterTheRestart()
    {
        var data = Path.Combine(Path.GetTempPath(), "agora-tests", Guid.NewGuid().ToString("N"));
        try
        {
            string agreement, key;
            await using (var first = await CityAsync(("Agora:Data", data)))
            {
                (agreement, key) = await first.AgreementAsync(Source, "\"quotas\": {\"callsPerDay\": 3}");
                using var consumer = first.Consumer(key);
                await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
                await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
            }
            await using var second = new MarketAgora("", ("Agora:Data", data));
            using var again = second.Consumer(key);

            using var third = await again.GetAsync(EntitiesPath + "?type=AirQualityObserved");
            using var fourth = await again.GetAsync(EntitiesPath + "?type=AirQualityObserved");
            var usage = await OkAsync(await again.GetAsync($"{Base}/agreements/{agreement}/usage"));

            Assert.Equal(HttpStatusCode.OK, third.StatusCode);
            await NgsiLdAssert.ProblemAsync(fourth, HttpStatusCode.TooManyRequests);
            var today = usage["days"]!.AsArray().Single()!;
            Assert.Equal(3, (int)today["calls"]!);
            Assert.Equal(3, (int)today["entities"]!);
            // The third call's time is recorded once its answer is sent, so it may come after this report.
            Assert.InRange((int)today["responseTime"]!["calls"]!, 2, 3);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }
        }
    }

    [Fact]
    public async Task ASuspendedAgreementReadsNothingUntilResumed()
    {
        await using var market = await CityAsync();
        var (agreement, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        await market.ActAsync(agreement, "suspend");
        using var suspended = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        await market.ActAsync(agreement, "resume");
        using var resumed = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.Contains("suspended", (string?)(await NgsiLdAssert.ProblemAsync(suspended, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
    }

    [Fact]
    public async Task AnAgreementPastItsEndReadsNothingAndReadsAsExpired()
    {
        await using var market = await CityAsync();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(Source), "\"accessMode\": \"open\"");
        var end = DateTimeOffset.UtcNow.AddSeconds(1).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        using var requester = await market.AccountAsync();
        using var requested = await requester.PostAsync(Base + "/agreements", Json($$"""{"offering": "{{offering}}", "consumer": "Acme Mobility", "endAt": "{{end}}"}"""));
        var agreement = (await SecuredAgora.JsonAsync(requested)).AsObject();
        using var consumer = market.Consumer((string)agreement["key"]!);

        using var expired = await UntilRefusedAsync(consumer);
        using var state = await market.Admin.GetAsync($"{Base}/agreements/{agreement["id"]}");

        Assert.Contains("expired", (string?)(await NgsiLdAssert.ProblemAsync(expired, HttpStatusCode.Forbidden))["detail"], StringComparison.Ordinal);
        Assert.Equal("expired", (string?)(await SecuredAgora.JsonAsync(state))["state"]);
    }

    /// The first answer to a type query that is not 200, polled rather than slept: an agreement made to end a second
    /// after it is made ends.
    internal static async Task<HttpResponseMessage> UntilRefusedAsync(HttpClient consumer)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpResponseMessage read;
        while ((read = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved")).StatusCode == HttpStatusCode.OK && DateTime.UtcNow < deadline)
        {
            read.Dispose();
            await Task.Delay(50);
        }
        return read;
    }

    [Fact]
    public async Task TheAgreementsOAuth2ClientIsHeldToItAsItsKeyIs()
    {
        await using var market = await CityAsync();
        var offering = await market.OfferingAsync(await market.DataSourceAsync(Source));
        using var requester = await market.AccountAsync();
        var requested = await MarketAgora.RequestAsync(requester, offering);
        await market.ActAsync((string)requested["id"]!, "approve");
        var approved = await MarketAgora.CollectAsync(requester, (string)requested["id"]!);
        var token = await IssuerTests.TokenAsync(market.App, (string)approved["clientId"]!, (string)approved["clientSecret"]!);
        using var bearer = market.App.BearerClient(token);

        var covered = await OkAsync(await bearer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
        using var outside = await bearer.GetAsync(EntitiesPath + "?type=WeatherObserved");
        await market.ActAsync((string)requested["id"]!, "terminate");
        using var terminated = await bearer.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.Equal("/oauth2/token", (string?)approved["tokenEndpoint"]);
        Assert.Equal([Inside], Ids(covered));
        await NgsiLdAssert.ProblemAsync(outside, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, terminated.StatusCode);
    }

    [Fact]
    public async Task TheBytesQuotaStopsReadsOnceSpent()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source, "\"quotas\": {\"bytesPerDay\": 10}");
        using var consumer = market.Consumer(key);

        using var first = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");
        using var second = await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("10 bytes a day", (string?)(await NgsiLdAssert.ProblemAsync(second, HttpStatusCode.TooManyRequests))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATemporalQueryObjectIsNarrowedToTheHistoryWindow()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);
        var old = DateTimeOffset.UtcNow.AddDays(-40).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var recent = DateTimeOffset.UtcNow.AddDays(-10).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        using var history = await market.Admin.PostAsync($"{Temporal}/{Uri.EscapeDataString(Inside)}/attrs", Json($$"""
            {"NO2": [{"type": "Property", "value": 30, "observedAt": "{{recent}}"}], "temperature": [{"type": "Property", "value": 5, "observedAt": "{{recent}}"}]}
            """));
        Assert.Equal(HttpStatusCode.NoContent, history.StatusCode);

        var answer = await OkAsync(await consumer.PostAsync("/ngsi-ld/v1/temporal/entityOperations/query", Json($$"""
            {"type": "Query", "entities": [{"type": "AirQualityObserved"}, {"type": "WeatherObserved"}], "attrs": ["NO2", "temperature"],
             "temporalQ": {"timerel": "after", "timeAt": "{{old}}"} }
            """)));
        using var before = await consumer.PostAsync("/ngsi-ld/v1/temporal/entityOperations/query", Json($$"""
            {"type": "Query", "entities": [{"type": "AirQualityObserved"}], "temporalQ": {"timerel": "before", "timeAt": "{{old}}"} }
            """));

        Assert.Equal([Inside], Ids(answer));
        Assert.Null(answer[0]!["temperature"]);
        Assert.NotNull(answer[0]!["NO2"]);
        await NgsiLdAssert.ProblemAsync(before, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task AnIdPatternLimitsTheEntitiesTogetherWithTheRequestsOwn()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync("""{"name": "Centro ids", "entityTypes": ["AirQualityObserved"], "idPattern": "centro$"}""");
        using var consumer = market.Consumer(key);

        var all = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));
        var both = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved&idPattern=vallecas"));

        Assert.Equal([Inside], Ids(all));
        Assert.Empty(both.AsArray());
    }

    [Fact]
    public async Task WritesAndOtherResourcesAreNotCoveredByAnAgreement()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        using var registrations = await consumer.GetAsync("/ngsi-ld/v1/csourceRegistrations?type=AirQualityObserved");

        await NgsiLdAssert.ProblemAsync(registrations, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ATenantWideConsumerKeyOfTheCitysOwnAppsReadsAsBefore()
    {
        await using var market = await CityAsync();
        await market.AgreementAsync(Source);
        using var consumer = market.Consumer();

        var answer = await OkAsync(await consumer.GetAsync(EntitiesPath + "?type=AirQualityObserved"));

        Assert.Equal([Inside, Outside], Ids(answer).Order());
        Assert.Contains("temperature", Members(answer[0]!));
    }

    [Fact]
    public async Task AJsonLdQueryObjectKeepsItsContextWhenItIsNarrowed()
    {
        await using var market = await CityAsync();
        var (_, key) = await market.AgreementAsync(Source);
        using var consumer = market.Consumer(key);

        var answer = await OkAsync(await consumer.PostAsync("/ngsi-ld/v1/entityOperations/query?options=keyValues", Json("""
            {"type": "Query", "entities": [{"type": "AirQualityObserved"}], "@context": "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld"}
            """, "application/ld+json")));

        Assert.Equal([Inside], Ids(answer));
        Assert.Equal(["NO2", "PM10", "id", "type"], Members(answer[0]!));
    }
}
