"""Names of the registered models the demo creates, shared by its modules and tests."""

CREDIT_MODEL = "credit-risk-scorer"
TUMOUR_MODEL = "tumour-classifier"
WINE_MODEL = "wine-cultivar-classifier"
DIABETES_MODEL = "diabetes-progression"
