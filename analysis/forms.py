from django import forms

from .models import AnalysisJob

PERIOD_CHOICES = [("1mo", "1 month"), ("3mo", "3 months"), ("6mo", "6 months"), ("1y", "1 year"),
                  ("2y", "2 years"), ("5y", "5 years")]


class AnalysisForm(forms.Form):
    symbols = forms.CharField(max_length=300, help_text="Tickers separated by spaces or commas, e.g. AAPL MSFT NVDA")
    weights = forms.CharField(max_length=300, required=False,
                              help_text="Optional weights in the same order, e.g. 50 30 20 (equal when empty)")
    analysis_type = forms.ChoiceField(choices=AnalysisJob.Type.choices, initial="risk_assessment")
    period = forms.ChoiceField(choices=PERIOD_CHOICES, initial="1y")

    def clean_symbols(self):
        return [s for s in self.cleaned_data["symbols"].replace(",", " ").split() if s]

    def clean_weights(self):
        raw = [w for w in self.cleaned_data["weights"].replace(",", " ").split() if w]
        if not raw:
            return None
        try:
            return [float(w) for w in raw]
        except ValueError:
            raise forms.ValidationError("weights must be numbers, e.g. 50 30 20") from None
