using System.Globalization;
using System.Text;

namespace Sol.Server.Metrics;

/// <summary>Writes the Prometheus text exposition format (version 0.0.4).</summary>
public sealed class PrometheusWriter
{
    private readonly StringBuilder _text = new();

    public void Header(string name, string help, string type)
    {
        _text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
    }

    public void Sample(string name, double value, string? label = null, string? labelValue = null)
    {
        _text.Append(name);
        if (label is not null)
        {
            _text.Append('{').Append(label).Append("=\"").Append(labelValue).Append("\"}");
        }
        _text.Append(' ').Append(Number(value)).Append('\n');
    }

    public void Metric(string name, string help, string type, double value)
    {
        Header(name, help, type);
        Sample(name, value);
    }

    public static string Number(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    public override string ToString() => _text.ToString();
}
