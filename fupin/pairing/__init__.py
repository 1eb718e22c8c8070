"""百企帮百村: buyers (爱心企业, and unions) paired with the villages they help, and what they bought there."""
